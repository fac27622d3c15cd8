#!/usr/bin/env bash
# Keeps the module arrows one way: config <- analysis <- rollout <- proxy, and Beast out of the
# headers of config/, analysis/ and rollout/.
set -u
root=${1:-.}
bad=0
check() {  # check DIR PATTERN WHY
  local hits
  hits=$(grep -rnE "$2" "$root/$1" --include='*.hpp' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then echo "$3:"; echo "$hits"; bad=1; fi
}
check config '#include *["<](analysis|rollout|proxy)/' "config/ must not include later modules"
check analysis '#include *["<](rollout|proxy)/' "analysis/ must not include rollout/ or proxy/"
check rollout '#include *["<]proxy/' "rollout/ must not include proxy/"
for m in config analysis rollout; do
  hits=$(grep -rnE '#include *<boost/(beast|asio)' "$root/$m" --include='*.hpp' 2>/dev/null)
  if [ -n "$hits" ]; then echo "$m/ headers must not include Beast or Asio:"; echo "$hits"; bad=1; fi
done
# GCC 12 miscompiles a co_await inside an if/while condition (the frame is resumed in a bad
# state); the init-statement form `if (T x = co_await f(); x ...)` and plain statements are fine.
hits=$(grep -rnE '(if|while) \((!|[^;]*[&|(!] *)?co_await' "$root/config" "$root/analysis" "$root/rollout" "$root/proxy" "$root/tests" --include='*.cpp' --include='*.hpp' 2>/dev/null)
if [ -n "$hits" ]; then echo "co_await inside a condition (GCC 12 miscompiles it):"; echo "$hits"; bad=1; fi
[ $bad -eq 0 ] && echo "include direction ok"
exit $bad
