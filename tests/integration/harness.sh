# Shared helpers of the shell integration tests; source it:
#   . "$(dirname "$0")/harness.sh"
# fail MESSAGE...         print "FAIL: MESSAGE" and exit 1
# free_port               a free TCP port on 127.0.0.1
# wait_for FILE REGEX PID until a line of FILE matches REGEX (0), or PID has
#                         ended or 60 s have passed (1): waits on the event,
#                         the time is only a guard
# capture_run CMD...      runs CMD; sets rc, its stdout in $work/out, stderr in
#                         $work/err
# cleanup_work            (for `trap cleanup_work EXIT`) kills and awaits every pid in
#                         the array pids, removes $work (kept, and said, when
#                         PANDAFLY_KEEP is set)
fail() {
  echo "FAIL: $*"
  exit 1
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {
  for _ in $(seq 600); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
capture_run() {
  set +e
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
}
cleanup_work() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${PANDAFLY_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
