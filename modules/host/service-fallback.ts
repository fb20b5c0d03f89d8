/**
 * rplay's stand-in for systemctl where systemd is not PID 1 (the lab, containers). It reads the same
 * unit files and the same enable symlinks `systemctl enable` makes, and tracks each daemon by a
 * pidfile. Run as `sh -c "$serviceFallbackScript" svc ACTION [NAME]`, ACTION one of start stop
 * restart reload status state enable disable is-enabled boot. The lab's init runs `boot` at host start.
 */
export const serviceFallbackScript = `
piddir=/run/rplay-svc
logdir=/var/log/rplay-svc
wants=/etc/systemd/system/multi-user.target.wants

err() { echo "svc: $*" >&2; return 1; }

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
  err "$svc exited right after starting; last lines of $log:"
  tail -n 10 "$log" >&2 2> /dev/null
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

action=\${1:-}
name=\${2:-}
name=\${name%.service}
case $action in
  start | stop | restart | reload | status | state | enable | disable | is-enabled)
    [ -n "$name" ] || { err "$action needs a service name"; exit 2; } ;;
esac
case $action in
  start) do_start "$name" ;;
  stop) do_stop "$name" ;;
  restart) do_stop "$name" && do_start "$name" ;;
  reload) do_reload "$name" ;;
  status)
    if running_pid "$name" > /dev/null; then echo active
    elif unit_file "$name" > /dev/null; then echo inactive; exit 3
    else echo not-found; exit 4; fi ;;
  enable)
    u=$(unit_file "$name") || { err "unit $name.service not found"; exit 1; }
    mkdir -p "$wants" && ln -sfn "$u" "$wants/$name.service" ;;
  disable) rm -f "$wants/$name.service" ;;
  state)
    # status and is-enabled in one go, as systemctl show prints them (what the service module reads).
    if running_pid "$name" > /dev/null; then echo ActiveState=active
    elif unit_file "$name" > /dev/null; then echo ActiveState=inactive
    else echo ActiveState=not-found; fi
    if [ -L "$wants/$name.service" ] || [ -e "$wants/$name.service" ]; then echo UnitFileState=enabled; else echo UnitFileState=disabled; fi ;;
  is-enabled)
    if [ -L "$wants/$name.service" ] || [ -e "$wants/$name.service" ]; then echo enabled; else echo disabled; exit 1; fi ;;
  boot)
    failed=0
    for l in "$wants"/*.service; do
      [ -L "$l" ] || [ -e "$l" ] || continue
      n=\${l##*/}
      do_start "\${n%.service}" || failed=1
    done
    exit $failed ;;
  *) err "usage: svc start|stop|restart|reload|status|state|enable|disable|is-enabled NAME | svc boot"; exit 2 ;;
esac
`;
