#!/usr/bin/env bash
# The integration tests' PKI, built with the openssl command line (not our
# code): two CAs, an impostor CA with kitty-ca's DN, and clients that cover
# every identity rule. Usage: make_pki.sh OUTDIR
set -euo pipefail
PKI_DIR=$1
rm -rf "$PKI_DIR"
# shellcheck source=../../scripts/lib/pki.sh
. "$(dirname "$0")/../../scripts/lib/pki.sh"

pki_ca kitty-ca    "/CN=kitty-ca/O=Kitty"
pki_ca acme-ca     "/CN=acme-ca/O=Acme Corp"
pki_ca impostor-ca "/CN=kitty-ca/O=Kitty"          # same DN as kitty-ca, another key
pki_server picture-server kitty-ca localhost

eager_dn="/CN=eager-client/O=Kitty/emailAddress=Eager@Kitty.example"
pki_client eager      kitty-ca    "$eager_dn"                 0x1D1D1C749D9C2D16
pki_client san-only   kitty-ca    "/CN=san-only/O=Kitty"      0x0A1B "email:san@kitty.example"
pki_client two-sans   acme-ca     "/CN=two-sans/O=Acme Corp"  0x2222 "email:a@partner.example,email:b@other.example"
pki_client highbit    kitty-ca    "/CN=highbit/O=Kitty"       0x80F1E2D3C4B5A697
pki_client other      kitty-ca    "/CN=other-client/O=Kitty"  0x3333
pki_client acme-twin  acme-ca     "$eager_dn"                 0x1D1D1C749D9C2D16
pki_client impostor   impostor-ca "$eager_dn"                 0x1D1D1C749D9C2D16
pki_forged forged                 "$eager_dn"                 0x1D1D1C749D9C2D16

# mod_ssl trusts all three CAs, so only the module's own checks tell them apart.
cat "$PKI_DIR/kitty-ca.crt" "$PKI_DIR/acme-ca.crt" "$PKI_DIR/impostor-ca.crt" >"$PKI_DIR/trusted-cas.pem"
chmod -R a+rX "$PKI_DIR"
