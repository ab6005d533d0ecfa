#include "tests/support/asn1_integer.h"

#include <stdexcept>

#include <openssl/bn.h>

namespace cscguard::testing {

Asn1IntegerPtr hex_integer(const std::string& hex) {
    BIGNUM* raw = nullptr;
    BN_hex2bn(&raw, hex.c_str());
    BignumPtr bn(raw);
    Asn1IntegerPtr value(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!value) throw std::runtime_error("cannot make an ASN.1 INTEGER of " + hex);
    return value;
}

}  // namespace cscguard::testing
