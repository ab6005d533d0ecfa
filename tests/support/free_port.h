// A loopback TCP port for a server a test starts (httpd, redis-server).
#pragma once

namespace cscguard::testing {

// A loopback TCP port nobody listens on right now.
int free_port();

}  // namespace cscguard::testing
