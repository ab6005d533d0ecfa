# Small PKI built with the openssl command line, for the demo and the
# integration tests (independent of our own code, so it can catch our bugs).
# Source this file; every function writes NAME.crt and NAME.key into $PKI_DIR.
#
#   pki_ca        NAME SUBJECT                      a CA (a new P-256 key each time)
#   pki_server    NAME CA HOST                      a server certificate for HOST
#   pki_client    NAME CA SUBJECT SERIAL [SAN]      a client certificate, SERIAL as 0x... hex
#   pki_forged    NAME SUBJECT SERIAL               a self-signed client certificate
#   pki_crl       CA OUT HOURS [SERIAL...]          a CRL of CA revoking SERIALs (written to OUT)
#   pki_client_until OUTDIR NAME CA SUBJECT SERIAL SECONDS
#                                                   a client certificate that expires SECONDS from now
#
# Keys are P-256; certificates carry SKI/AKI like any real CA's.

: "${PKI_DIR:?set PKI_DIR before sourcing pki.sh}"
mkdir -p "$PKI_DIR"
# ext.cnf reads the SAN from $PKI_SAN; openssl wants it set even where unused.
export PKI_SAN=DNS:unused.invalid

_pki_ext() {  # [FILE]: the extension sections every signing step picks from (default $PKI_DIR/ext.cnf)
  cat >"${1:-$PKI_DIR/ext.cnf}" <<'CNF'
[ req ]
distinguished_name = dn
[ dn ]
[ ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_san ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::PKI_SAN
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::PKI_SAN
CNF
}

_pki_hex() {  # 0x1d1d -> 1D1D, as openssl's index.txt spells a serial (an even number of digits)
  local hex
  hex=$(printf '%s' "${1#0x}" | tr 'a-f' 'A-F')
  if [ $(( ${#hex} % 2 )) -eq 1 ]; then hex="0$hex"; fi
  printf '%s' "$hex"
}

_pki_key() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$1.key" 2>/dev/null
  chmod 0644 "$PKI_DIR/$1.key"  # test fixtures: readable by httpd's unprivileged children
}

pki_ca() {
  local name=$1 subject=$2
  _pki_ext; _pki_key "$name"
  openssl req -x509 -new -key "$PKI_DIR/$name.key" -subj "$subject" -days 3650 -sha256 \
    -config "$PKI_DIR/ext.cnf" -extensions ca -out "$PKI_DIR/$name.crt"
}

_pki_sign() {  # NAME CA SUBJECT SERIAL SECTION
  local name=$1 ca=$2 subject=$3 serial=$4 section=$5
  _pki_ext; _pki_key "$name"
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -config "$PKI_DIR/ext.cnf" \
    -out "$PKI_DIR/$name.csr"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/$ca.crt" -CAkey "$PKI_DIR/$ca.key" \
    -set_serial "$serial" -days 365 -sha256 -extfile "$PKI_DIR/ext.cnf" -extensions "$section" \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr"
}

pki_server() {
  local name=$1 ca=$2 host=$3
  PKI_SAN="DNS:$host,IP:127.0.0.1,IP:::1" _pki_sign "$name" "$ca" "/CN=$host" "0x$(openssl rand -hex 16)" server
}

pki_client() {
  local name=$1 ca=$2 subject=$3 serial=$4 san=${5:-}
  if [ -n "$san" ]; then
    PKI_SAN=$san _pki_sign "$name" "$ca" "$subject" "$serial" client_san
  else
    _pki_sign "$name" "$ca" "$subject" "$serial" client
  fi
}

pki_forged() {
  local name=$1 subject=$2 serial=$3
  _pki_ext; _pki_key "$name"
  openssl req -x509 -new -key "$PKI_DIR/$name.key" -subj "$subject" -set_serial "$serial" -days 365 \
    -sha256 -config "$PKI_DIR/ext.cnf" -extensions client -out "$PKI_DIR/$name.crt"
}

# pki_crl CA OUT HOURS [SERIAL...]
#   A CRL of CA revoking the hex SERIALs (0x...), written to OUT (PEM), with
#   lastUpdate an hour ago and nextUpdate HOURS from now (negative: stale).
#   Each CRL's crlNumber is the time it was made in nanoseconds, so that
#   successive CRLs count up as a real CA's do, whatever file they are
#   written to first (the module refuses a CRL that is not newer, and two
#   made in the same second differ in nothing else it could order them by).
pki_crl() {
  local ca=$1 out=$2 hours=$3; shift 3
  local db="$out.db"
  rm -rf "$db"; mkdir -p "$db"; : >"$db/index.txt"
  printf '%016X\n' "$(date +%s%N)" >"$db/crlnumber"
  local expiry revoked serial hex
  expiry=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
  revoked=$(date -u -d '-30 minutes' +%y%m%d%H%M%SZ)
  for serial in "$@"; do
    hex=$(_pki_hex "$serial")
    printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=revoked-%s\n' "$expiry" "$revoked" "$hex" "$hex" >>"$db/index.txt"
  done
  cat >"$db/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $db/index.txt
crlnumber = $db/crlnumber
default_md = sha256
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
  openssl ca -batch -gencrl -config "$db/ca.cnf" -keyfile "$PKI_DIR/$ca.key" -cert "$PKI_DIR/$ca.crt" \
    -crl_lastupdate "$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)" \
    -crl_nextupdate "$(date -u -d "$hours hours" +%y%m%d%H%M%SZ)" -out "$out.tmp" 2>/dev/null
  chmod 0644 "$out.tmp"
  mv -f "$out.tmp" "$out"  # atomically, as a running httpd may be reading it
}

# pki_client_until OUTDIR NAME CA SUBJECT SERIAL SECONDS
#   OUTDIR/NAME.crt and .key: a client certificate of CA valid from an hour
#   ago until SECONDS from now (openssl ca, which takes exact dates).
pki_client_until() {
  local outdir=$1 name=$2 ca=$3 subject=$4 serial=$5 seconds=$6
  local db="$outdir/$name.db" hex
  hex=$(_pki_hex "$serial")
  rm -rf "$db"; mkdir -p "$db"; : >"$db/index.txt"; echo "$hex" >"$db/serial"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$outdir/$name.key" 2>/dev/null
  chmod 0644 "$outdir/$name.key"
  _pki_ext "$db/ext.cnf"  # not the shared one: tests running in parallel call this
  cat >"$db/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
organizationName = optional
CNF
  openssl req -new -key "$outdir/$name.key" -subj "$subject" -config "$db/ext.cnf" -out "$db/req.csr"
  openssl ca -batch -config "$db/ca.cnf" -cert "$PKI_DIR/$ca.crt" -keyfile "$PKI_DIR/$ca.key" -in "$db/req.csr" \
    -out "$outdir/$name.crt" -notext -extfile "$db/ext.cnf" -extensions client \
    -startdate "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d "+$seconds seconds" +%Y%m%d%H%M%SZ)" 2>/dev/null
  chmod 0644 "$outdir/$name.crt"
}
