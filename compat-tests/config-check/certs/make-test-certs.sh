#!/bin/bash
# Regenerates throw-away test PKI files (never use them for anything real).
# usage: make-test-certs.sh OUTDIR "CA common name" NAME:CN:SAN[,SAN]...
# e.g. (how compat-tests/config-check/certs/ was made):
#   make-test-certs.sh compat-tests/config-check/certs "oxsyslog test CA" \
#     "server:server.example.test:DNS:server.example.test,DNS:localhost,IP:127.0.0.1" \
#     "client:client.example.test:DNS:client.example.test"
# and conf-examples/certs/:
#   make-test-certs.sh conf-examples/certs "oxsyslog example CA" \
#     "rsyslog.keyexample.com:rsyslog.keyexample.com:DNS:rsyslog.keyexample.com" \
#     "keyfactor.keyexample.com:keyfactor.keyexample.com:DNS:keyfactor.keyexample.com" \
#     "s.example.net:s.example.net:DNS:s.example.net,DNS:localhost,IP:127.0.0.1" \
#     "client.example.net:client.example.net:DNS:client.example.net"
# Writes ca.pem + ca-key.pem and NAME-cert.pem + NAME-key.pem (RSA 2048, PKCS#8, valid 100 years,
# EKU serverAuth+clientAuth). Regenerating changes the fingerprints used in
# valid/55-rainerscript-tls-server-fingerprint.conf.
set -e
out=$1; shift; cacn=$1; shift
cd "$out"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 36500 \
  -subj "/O=oxsyslog test/CN=$cacn" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
for spec in "$@"; do
  name=${spec%%:*}; rest=${spec#*:}; cn=${rest%%:*}; san=${rest#*:}
  openssl req -newkey rsa:2048 -nodes -keyout "$name-key.pem" -out "$name.csr" -subj "/O=oxsyslog test/CN=$cn" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 36500 -out "$name-cert.pem" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
done
rm -f ca.srl
chmod 644 ./*.pem
