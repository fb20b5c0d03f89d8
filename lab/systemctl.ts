/**
 * The lab's stand-in for systemd's systemctl and journalctl (lab hosts have no systemd): installed
 * in each host's /usr/local/sbin, first in root's and sudo's PATH. It implements what rplay's modules
 * run (show -p …, start, stop, restart, reload, enable, disable, is-active, is-enabled,
 * daemon-reload) on the same unit files and enable symlinks systemd uses, tracking each daemon by a
 * pidfile; `systemctl default`, run by the host's init at boot, starts the enabled units.
 * `journalctl -u UNIT -n N` prints the last lines of the unit's output.
 */
export const SYSTEMCTL_SCRIPT = `#!/bin/sh
piddir=/run/rplay-svc
logdir=/var/log/rplay-svc
wants=/etc/systemd/system/multi-user.target.wants

err() { echo "systemctl: $*" >&2; return 1; }

unit_file() {
  for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
    if [ -f "$d/$1.service" ]; then echo "$d/$1.service"; return 0; fi
  done
  return 1
}

# Values of KEY= in a unit's [Service] section, one per line (continuation lines are not supported).
unit_values() {
  sed -n '/^\\[Service\\]/,/^\\[/s/^[[:space:]]*'"$2"'[[:space:]]*=[[:space:]]*//p' "$1"
}

# A command line from ExecStart=/ExecReload=, without systemd's prefixes (- @ + ! : ).
unit_command() {
  c=$(unit_values "$1" "$2" | head -n 1)
  while :; do case $c in [-@+!:]*) c=\${c#?} ;; *) break ;; esac; done
  printf '%s' "$c"
}

# Prints the pid of NAME's daemon and succeeds when it is alive (a zombie is not).
running_pid() {
  [ -f "$piddir/$1.pid" ] || return 1
  read -r pid < "$piddir/$1.pid" || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  [ -d "/proc/$pid" ] || return 1
  # Builtins only: the state is read on every converged run, for every service.
  while IFS=: read -r key value; do
    [ "$key" = State ] || continue
    case $value in *zombie*) return 1 ;; esac
    break
  done < "/proc/$pid/status" 2> /dev/null
  echo "$pid"
}

# Exports the unit's Environment= lines: sh-like quoted assignments ("A=1" "B=x y"), which
# export evaluates the same way. Call it in a subshell.
unit_env() {
  envs=$(unit_values "$1" Environment)
  while IFS= read -r e; do [ -z "$e" ] || eval "export $e" || return 1; done <<ENVS
$envs
ENVS
}

do_start() {
  svc=$1
  running_pid "$svc" > /dev/null && return 0
  u=$(unit_file "$svc") || { err "unit $svc.service not found in /etc/systemd/system, /lib/systemd/system or /usr/lib/systemd/system"; return 1; }
  cmd=$(unit_command "$u" ExecStart)
  [ -n "$cmd" ] || { err "$u has no ExecStart="; return 1; }
  type=$(unit_values "$u" Type | tail -n 1)
  forked_pidfile=$(unit_values "$u" PIDFile | tail -n 1)
  [ "$type" != forking ] || [ -n "$forked_pidfile" ] || { err "$u: Type=forking needs PIDFile= to be tracked here"; return 1; }
  user=$(unit_values "$u" User | tail -n 1)
  group=$(unit_values "$u" Group | tail -n 1)
  wd=$(unit_values "$u" WorkingDirectory | tail -n 1)
  mkdir -p "$piddir" || return 1
  rm -f "$piddir/$svc.pid"
  log=/dev/null
  if mkdir -p "$logdir" 2> /dev/null && touch "$logdir/$svc.log" 2> /dev/null; then log=$logdir/$svc.log; fi
  (
    unit_env "$u" || exit 1
    set -- --start --quiet
    if [ -n "$user" ]; then set -- "$@" --chuid "$user\${group:+:$group}"; elif [ -n "$group" ]; then set -- "$@" --group "$group"; fi
    if [ -n "\${wd#-}" ]; then set -- "$@" --chdir "\${wd#-}"; fi
    # A forking daemon detaches itself and names its pid in PIDFile=; anything else is detached here.
    if [ "$type" = forking ]; then
      exec start-stop-daemon "$@" --pidfile "$forked_pidfile" --startas /bin/sh -- -c "exec $cmd" >> "$log" 2>&1
    fi
    exec start-stop-daemon "$@" --background --make-pidfile --pidfile "$piddir/$svc.pid" --output "$log" --startas /bin/sh -- -c "exec $cmd"
  ) || { err "starting $svc failed"; return 1; }
  # A daemon that dies at once (bad config, port taken) is a failed start, not a started service.
  sleep 0.3
  if [ "$type" = forking ]; then
    i=0
    while [ ! -s "$forked_pidfile" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
    cp -- "$forked_pidfile" "$piddir/$svc.pid" 2> /dev/null
  fi
  running_pid "$svc" > /dev/null && return 0
  err "$svc exited right after starting; see journalctl -u $svc.service"
  return 1
}

do_stop() {
  pid=$(running_pid "$1") || { rm -f "$piddir/$1.pid"; return 0; }
  kill -TERM "$pid" 2> /dev/null
  i=0
  while running_pid "$1" > /dev/null; do
    i=$((i + 1))
    # TERM gets 10 s, then KILL and up to 2 s more for the kernel to take it down.
    if [ $i -eq 100 ]; then kill -KILL "$pid" 2> /dev/null; fi
    if [ $i -gt 120 ]; then err "$1 (pid $pid) did not stop"; return 1; fi
    sleep 0.1
  done
  rm -f "$piddir/$1.pid"
}

do_reload() {
  pid=$(running_pid "$1") || { err "$1 is not running; cannot reload"; return 1; }
  u=$(unit_file "$1") || { err "unit $1.service not found"; return 1; }
  r=$(unit_command "$u" ExecReload)
  [ -n "$r" ] || { kill -HUP "$pid"; return; }
  user=$(unit_values "$u" User | tail -n 1)
  group=$(unit_values "$u" Group | tail -n 1)
  (
    unit_env "$u" || exit 1
    export MAINPID="$pid"
    # As systemd does, ExecReload runs as the unit's User/Group.
    if [ -n "$user" ]; then exec setpriv --reuid="$user" --regid="\${group:-$(id -g "$user")}" --init-groups sh -c "exec $r"; fi
    exec sh -c "exec $r"
  )
}

is_enabled() { [ -L "$wants/$1.service" ] || [ -e "$wants/$1.service" ]; }

# One property of a unit, as systemctl show prints it.
prop() {
  case $2 in
    LoadState) if unit_file "$1" > /dev/null; then echo loaded; else echo not-found; fi ;;
    ActiveState) if running_pid "$1" > /dev/null; then echo active; else echo inactive; fi ;;
    UnitFileState)
      if ! unit_file "$1" > /dev/null; then echo; elif is_enabled "$1"; then echo enabled; else echo disabled; fi ;;
    # Unit files are read at each start: there is never an older copy loaded.
    NeedDaemonReload) echo no ;;
    *) err "show: property $2 is not supported by the lab's systemctl"; return 1 ;;
  esac
}

# journalctl -u UNIT [-n N] [--no-pager]: the unit's output, as the journal would have it.
if [ "\${0##*/}" = journalctl ]; then
  unit='' lines=10
  while [ $# -gt 0 ]; do
    case $1 in -u) unit=\${2%.service}; shift 2 ;; -n) lines=$2; shift 2 ;; *) shift ;; esac
  done
  [ -z "$unit" ] || [ ! -f "$logdir/$unit.log" ] || tail -n "$lines" "$logdir/$unit.log"
  exit 0
fi

props='' value=0 cmd=''
while [ $# -gt 0 ]; do
  case $1 in
    -p | --property) props="$props \${2:?}"; shift 2 ;;
    --property=*) props="$props \${1#*=}"; shift ;;
    --value) value=1; shift ;;
    -q | --quiet | --no-pager | --no-block | --system) shift ;;
    --) shift; break ;;
    -*) err "option $1 is not supported by the lab's systemctl"; exit 2 ;;
    *) if [ -z "$cmd" ]; then cmd=$1; shift; else break; fi ;;
  esac
done
[ -n "$cmd" ] || { [ $# -gt 0 ] && { cmd=$1; shift; }; }

case $cmd in
  start | stop | restart | reload | enable | disable | is-active | is-enabled | show)
    [ $# -gt 0 ] || { err "$cmd needs a unit name"; exit 2; } ;;
esac

rc=0
case $cmd in
  daemon-reload) ;;
  default)
    for l in "$wants"/*.service; do
      [ -L "$l" ] || [ -e "$l" ] || continue
      n=\${l##*/}
      do_start "\${n%.service}" || rc=1
    done ;;
  *)
    for u in "$@"; do
      n=\${u%.service}
      case $cmd in
        start) do_start "$n" || rc=1 ;;
        stop) do_stop "$n" || rc=1 ;;
        restart) { do_stop "$n" && do_start "$n"; } || rc=1 ;;
        reload) do_reload "$n" || rc=1 ;;
        enable)
          f=$(unit_file "$n") || { err "unit $n.service not found in /etc/systemd/system, /lib/systemd/system or /usr/lib/systemd/system"; exit 1; }
          mkdir -p "$wants" && ln -sfn "$f" "$wants/$n.service" || rc=1 ;;
        disable) rm -f "$wants/$n.service" ;;
        is-active) if running_pid "$n" > /dev/null; then echo active; else echo inactive; rc=3; fi ;;
        is-enabled) if is_enabled "$n"; then echo enabled; else echo disabled; rc=1; fi ;;
        show)
          for p in \${props:-LoadState ActiveState UnitFileState NeedDaemonReload}; do
            v=$(prop "$n" "$p") || exit 1
            if [ $value = 1 ]; then echo "$v"; else echo "$p=$v"; fi
          done ;;
        *) err "$cmd is not supported by the lab's systemctl (it runs start stop restart reload enable disable is-active is-enabled show daemon-reload default)"; exit 2 ;;
      esac
    done ;;
esac
exit $rc
`;
