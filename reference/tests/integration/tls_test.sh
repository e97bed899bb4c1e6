#!/usr/bin/env bash
# Real clients over HTTPS with the reference's own CA: skopeo trusts nothing but the CA that
# `GET /ca` hands out (its --cert-dir, never --tls-verify=false) and pushes and pulls
# byte-identical images; a replaced certificate is served without a restart; with token
# auth the realm is https://; with --client-ca a client certificate logs its user in
# (mutual TLS) and one naming no user is refused. Plain HTTP on the TLS port gets a 400.
#   tls_test.sh PATH/TO/dtr
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../../../ci/lib.sh
source "$here/../../../ci/lib.sh"
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$here/common.sh"

dtr_bin="${1:?usage: tls_test.sh PATH/TO/dtr}"
lib_require_tools skopeo jq curl openssl sha256sum tar cmp
lib_init
T="$LIB_TMP"
export DTR_ADMIN_PASSWORD="tls-test-$RANDOM$RANDOM"

sk() { skopeo --insecure-policy "$@"; }
copy() {
  if ! sk copy -q "$@" >"$T/skopeo.out" 2>&1; then
    cat "$T/skopeo.out" >&2
    lib_die "skopeo copy $* failed"
  fi
}
expect_eq() { [ "$2" = "$3" ] || lib_die "$1: got '$2', want '$3'"; }
serial_of() { # serial_of PORT: serial number of the certificate served there
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -serial
}
reset_skopeo_cache

# ---------------------------------------------------------------- an image
L="$T/layout"
oci_init "$L"
mkdir -p "$T/src/a/etc" "$T/src/b"
echo "over tls $RANDOM$RANDOM" >"$T/src/a/etc/motd"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/src/b/big.bin"
make_tar_layer "$T/src/a.tar" "$T/src/a"
make_tar_layer "$T/src/b.tar" "$T/src/b"
img="$(oci_add_image "$L" img amd64 "$T/src/a.tar" "$T/src/b.tar")"
mkdir -p "$T/src/c"
echo "second $RANDOM$RANDOM" >"$T/src/c/file"
make_tar_layer "$T/src/c.tar" "$T/src/c"
img2="$(oci_add_image "$L" img2 amd64 "$T/src/c.tar")"

# ---------------------------------------------------------------- HTTPS with the CA
tport="$(lib_free_port)"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --tls-listen "127.0.0.1:$tport" --host registry.test
P="$LIB_PORT"
data="$T/dtr/data"
S="127.0.0.1:$tport"

lib_log "GET /ca and the CA's files"
mkdir -p "$T/certs"
curl -fsS "http://127.0.0.1:$P/ca" -o "$T/certs/ca.crt"
cmp -s "$T/certs/ca.crt" "$data/ca/ca.pem" || lib_die "GET /ca differs from $data/ca/ca.pem"
expect_eq "mode of the CA key" "$(stat -c %a "$data/ca/ca-key.pem")" 600
expect_eq "mode of the server key" "$(stat -c %a "$data/ca/server-key.pem")" 600
openssl x509 -in "$data/ca/server.pem" -noout -ext subjectAltName | grep -q "DNS:registry.test" ||
  lib_die "the server certificate does not name --host registry.test"
curl -fsS --cacert "$T/certs/ca.crt" "https://$S/ca" | cmp -s - "$T/certs/ca.crt" ||
  lib_die "GET /ca over HTTPS differs"

lib_log "TLS versions"
openssl s_client -connect "$S" -tls1_3 </dev/null >/dev/null 2>&1 || lib_die "TLS 1.3 refused"
openssl s_client -connect "$S" -tls1_2 </dev/null >/dev/null 2>&1 || lib_die "TLS 1.2 refused"
if openssl s_client -connect "$S" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1; then
  lib_die "TLS 1.1 accepted"
fi

lib_log "plain HTTP on the TLS port"
body="$(curl -sS --max-time 5 "http://$S/v2/" -w ' %{http_code}')"
[[ "$body" == *"speaks HTTPS"*" 400" ]] || lib_die "plain HTTP on the TLS port got: $body"

lib_log "skopeo push and pull over HTTPS, trusting only the reference CA"
ns="tls$(date +%s)$RANDOM"
if sk copy -q --preserve-digests "oci:$L:img" "docker://$S/$ns/untrusted:v1" >"$T/untrusted.out" 2>&1; then
  lib_die "skopeo pushed without trusting the CA: TLS is not being verified"
fi
grep -qi "certificate" "$T/untrusted.out" || lib_die "unexpected failure: $(cat "$T/untrusted.out")"
copy --preserve-digests --dest-cert-dir "$T/certs" "oci:$L:img" "docker://$S/$ns/app:v1"
grep -qE "\"PATCH /v2/$ns/app/blobs/uploads/[^\"]*\" 202 in=2[0-9]{7} .* tls" "$data/../dtr.log" ||
  lib_die "no 20 MiB PATCH over TLS in the access log"
copy --preserve-digests --src-cert-dir "$T/certs" "docker://$S/$ns/app:v1" "oci:$T/pull:img"
assert_layout_has "$L" "$T/pull" "$img"
curl -fsS --cacert "$T/certs/ca.crt" "https://$S/_ping" | jq -e '.Healthy == true' >/dev/null ||
  lib_die "/_ping over HTTPS is not healthy"
lib_stop_dtr "$T/dtr"

# ---------------------------------------------------------------- replacing the certificate
lib_log "an operator's certificate, replaced without a restart"
mkdir -p "$T/op"
cp "$data/ca/server.pem" "$T/op/cert.pem"
cp "$data/ca/server-key.pem" "$T/op/key.pem"
tport="$(lib_free_port)"
S="127.0.0.1:$tport"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth none --tls-listen "$S" \
  --tls-cert "$T/op/cert.pem" --tls-key "$T/op/key.pem"
before="$(serial_of "$tport")"
[ -n "$before" ] || lib_die "no certificate served on $S"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/op/new-key.pem" 2>/dev/null
openssl req -new -key "$T/op/new-key.pem" -subj "/CN=localhost" -out "$T/op/new.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/op/ext"
openssl x509 -req -in "$T/op/new.csr" -CA "$data/ca/ca.pem" -CAkey "$data/ca/ca-key.pem" \
  -CAcreateserial -days 30 -extfile "$T/op/ext" -out "$T/op/new-cert.pem" 2>/dev/null
# Key first, then the certificate: each rename is atomic.
mv "$T/op/new-key.pem" "$T/op/key.pem"
mv "$T/op/new-cert.pem" "$T/op/cert.pem"
after="$before"
for _ in $(seq 1 50); do
  after="$(serial_of "$tport")"
  [ "$after" != "$before" ] && break
  sleep 0.1
done
[ "$after" != "$before" ] || lib_die "the replaced certificate was not picked up ($before)"
expect_eq "serial served after the replacement" "$after" \
  "$(openssl x509 -in "$T/op/cert.pem" -noout -serial)"
copy --preserve-digests --src-cert-dir "$T/certs" "docker://$S/$ns/app:v1" "oci:$T/pull2:img"
assert_layout_has "$L" "$T/pull2" "$img"
lib_stop_dtr "$T/dtr"

# ---------------------------------------------------------------- token auth and mutual TLS
lib_log "token auth over HTTPS, and client certificates (--client-ca)"
tport="$(lib_free_port)"
S="127.0.0.1:$tport"
lib_start_dtr "$dtr_bin" "$T/dtr" --auth token --tls-listen "$S" --client-ca "$data/ca/ca.pem"
challenge="$(curl -sS --cacert "$T/certs/ca.crt" -o /dev/null -D - "https://$S/v2/" |
  tr -d '\r' | grep -i '^www-authenticate:' || true)"
[[ "$challenge" == *"realm=\"https://$S/auth/token\""* ]] ||
  lib_die "token realm over HTTPS: $challenge"
# The repository exists (pushed above): admin may pull and push it with a password...
sk inspect --raw --creds "admin:$DTR_ADMIN_PASSWORD" --cert-dir "$T/certs" \
  "docker://$S/$ns/app:v1" | cmp -s - "$(oci_blob "$L" "$img")" ||
  lib_die "token-authenticated inspect over HTTPS differs"
if sk inspect --raw --cert-dir "$T/certs" "docker://$S/$ns/app:v1" >/dev/null 2>&1; then
  lib_die "anonymous pull of a private repository succeeded"
fi
# ...or with a client certificate naming the admin, and no password at all.
"$dtr_bin" client-cert --user admin --out "$T/admin-cert" --data "$data" >/dev/null
copy --preserve-digests --dest-cert-dir "$T/admin-cert" "oci:$L:img2" "docker://$S/$ns/app:v2"
copy --preserve-digests --src-cert-dir "$T/admin-cert" "docker://$S/$ns/app:v2" "oci:$T/pull3:img2"
assert_layout_has "$L" "$T/pull3" "$img2"
expect_eq "/v2/ with the admin's certificate" "$(curl -sS -o /dev/null -w '%{http_code}' \
  --cacert "$T/certs/ca.crt" --cert "$T/admin-cert/client.cert" --key "$T/admin-cert/client.key" \
  "https://$S/v2/")" 200
# A certificate whose CN names no account is refused, and says why.
"$dtr_bin" client-cert --user nobody --out "$T/nobody-cert" --data "$data" >/dev/null
out="$(curl -sS --cacert "$T/certs/ca.crt" --cert "$T/nobody-cert/client.cert" \
  --key "$T/nobody-cert/client.key" "https://$S/v2/" -w ' %{http_code}')"
[[ "$out" == *"not an active user"*" 401" ]] || lib_die "certificate for a missing user: $out"
if sk inspect --raw --cert-dir "$T/nobody-cert" "docker://$S/$ns/app:v1" >/dev/null 2>&1; then
  lib_die "a certificate naming no user pulled a private repository"
fi
# A certificate from another CA does not even complete the handshake.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=admin" -keyout "$T/rogue.key" -out "$T/rogue.pem" 2>/dev/null
code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$T/certs/ca.crt" \
  --cert "$T/rogue.pem" --key "$T/rogue.key" "https://$S/v2/" 2>/dev/null || true)"
[ "$code" != 200 ] || lib_die "a self-signed client certificate was accepted"
lib_stop_dtr "$T/dtr"
lib_log "PASS tls_test"
