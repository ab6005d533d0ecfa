// An ASN.1 INTEGER from hex, as a certificate or CRL carries a serial:
// tests write serials the way people read them ("1D1D", "-01").
#pragma once

#include <string>

#include <openssl/asn1.h>

#include "policy/openssl_ptr.h"

namespace cscguard::testing {

using Asn1IntegerPtr = OpenSslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;

// BN_hex2bn's reading of `hex` (a leading '-' for negative; "" or non-hex
// reads as 0), as a DER-ready INTEGER. Throws std::runtime_error on failure.
Asn1IntegerPtr hex_integer(const std::string& hex);

}  // namespace cscguard::testing
