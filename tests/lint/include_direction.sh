#!/usr/bin/env bash
# Keeps the module arrows one way, in headers and sources alike:
#   config <- analysis <- rollout <- proxy <- control <- cli
# and Beast/Asio out of everything below proxy/ (config/, analysis/, rollout/).
set -u
root=${1:-.}
bad=0
check() {  # check DIR PATTERN WHY
  local hits
  hits=$(grep -rnE "$2" "$root/$1" --include='*.hpp' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then echo "$3:"; echo "$hits"; bad=1; fi
}
modules=(config analysis rollout proxy control cli)
for ((i = 0; i < ${#modules[@]} - 1; i++)); do
  above=$(IFS='|'; echo "${modules[*]:i+1}")
  check "${modules[i]}" "#include *[\"<]($above)/" "${modules[i]}/ must not include a module above it ($above)"
done
for m in config analysis rollout; do
  check "$m" '#include *<boost/(beast|asio)' "$m/ must not include Beast or Asio (only proxy/ and above do I/O)"
done
# GCC 12 miscompiles a co_await inside an if/while condition (the frame is resumed in a bad
# state); the init-statement form `if (T x = co_await f(); x ...)` and plain statements are fine.
dirs=()
for d in "${modules[@]}" tests; do dirs+=("$root/$d"); done
hits=$(grep -rnE '(if|while) \((!|[^;]*[&|(!] *)?co_await' "${dirs[@]}" --include='*.cpp' --include='*.hpp' 2>/dev/null)
if [ -n "$hits" ]; then echo "co_await inside a condition (GCC 12 miscompiles it):"; echo "$hits"; bad=1; fi
[ $bad -eq 0 ] && echo "include direction ok"
exit $bad
