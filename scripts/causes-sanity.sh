#!/bin/bash
# Runs failing programs that are NOT in the real-output benchmark set (perl, gcc, make, openssl, awk, find, xz, ssh),
# six instances each with varied names, bare and behind a trap trailer; prints one JSON line per failed result:
#   bash scripts/causes-sanity.sh > test/fixtures/causes-sanity.jsonl
# test/unit/causes-sanity.test.ts groups them through the aggregation: a check that the rules generalise.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
emit() { node -e 'const [cause, shape, code] = process.argv.slice(1); let o = ""; process.stdin.on("data", (d) => (o += d)).on("end", () => { if (code !== "0") console.log(JSON.stringify({ cause, shape, exitCode: Number(code), output: o })); });' "$1" "$2" "$3"; }
behind_trap() { local out c; out=$(bash -c "$1" 2>&1); c=$?; printf '%s\ncleaning up /tmp/job.%s ...\nstep %s failed with exit code %s\n' "$out" "$RANDOM" "'$2'" "$c"; return $c; }
names=(alpha bravo charlie delta echo foxtrot)
for i in 1 2 3 4 5 6; do
  n=${names[$((i - 1))]}
  cmds=(
    "perl-die|perl -e 'die \"cannot open config /etc/$n/app.conf: No such file or directory\\n\"'"
    "perl-undef-sub|perl -e 'use strict; ${n}_run();'"
    "gcc-undeclared|printf 'int main(){ return ${n}_count; }\n' > $work/$n.c && gcc -c $work/$n.c -o $work/$n.o"
    "make-no-rule|make -f /dev/null build-$n"
    "openssl-no-file|openssl x509 -in /etc/ssl/$n-$i.pem -noout"
    "awk-syntax|echo x | awk '{ print \$1 ${n}( }'"
    "find-no-dir|find /srv/$n-data-$i -name '*.log'"
    "xz-not-xz|echo plain-$n > $work/$n.xz && xz -d -c $work/$n.xz"
    "ssh-resolve|ssh -o BatchMode=yes -o ConnectTimeout=1 $n-$i.invalid true"
  )
  for c in "${cmds[@]}"; do
    cause=${c%%|*}
    cmd=${c#*|}
    out=$(bash -c "$cmd" 2>&1); code=$?; printf '%s\n' "$out" | emit "$cause" bare $code
    out=$(behind_trap "$cmd" "$cause"); code=$?; printf '%s\n' "$out" | emit "$cause" trap $code
  done
done
