// A fresh directory for one test, removed with everything in it afterwards.
// mkdtemp makes the name unique, so two tests of the same name (ctest
// --parallel, two build trees, a test run twice at once) never share one.
#pragma once

#include <string>

namespace cscguard::testing {

class TempDir {
public:
    // $TMPDIR/PREFIX-XXXXXX (/tmp when TMPDIR is unset), mode 0700 as mkdtemp
    // makes it. Throws std::runtime_error when it cannot be made.
    explicit TempDir(const std::string& prefix = "cscguard-test");
    // Removes the directory with std::filesystem::remove_all unless keep()
    // was called: no shell, so no quoting to get wrong.
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

    // Leaves the directory on disk (a failed test's files, to look at).
    void keep() { keep_ = true; }

private:
    std::string path_;
    bool keep_ = false;
};

}  // namespace cscguard::testing
