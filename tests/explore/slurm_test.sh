#!/usr/bin/env bash
# A real single-node Slurm in this test's own temp folder (munged, slurmctld,
# slurmd from Debian's slurm-wlm + munge, a generated slurm.conf, private
# ports), running an explore sweep as a job array plus a dependent merge job
# (examples/slurm/), compared byte for byte with an unsharded run.
# The daemons are stopped by their pid files on every exit path.
# Usage: slurm_test.sh LUTC STAND_IN_ENGINE SOURCE_DIR. Exit 77 = skipped
# (not root, or Slurm not installed) except on CI, where that is a failure.
set -euo pipefail
lutc="$1" stand_in="$2" src="$3"

skip() {
  echo "SKIP: $*"
  if [ "${CI:-}" = true ]; then exit 1; fi
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd and munged are started here)"
for b in munged slurmctld slurmd sbatch sinfo squeue; do
  command -v "$b" >/dev/null || skip "$b not installed (scripts/setup installs slurm-wlm and munge)"
done
[ -r /etc/munge/munge.key ] || skip "/etc/munge/munge.key missing (the munge package creates it)"

t="$(mktemp -d /tmp/lutc-slurm.XXXXXX)"
stop_daemons() {
  for name in slurmd slurmctld munged; do
    local pidfile="$t/run/$name.pid"
    [ -s "$pidfile" ] || continue
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_SLURM_TEST_DIR:-}" = 1 ]; then echo "kept $t"; else rm -rf "$t"; fi
}
trap stop_daemons EXIT

mkdir -p "$t"/{run,state,spool,log,munge,work}
chown munge:munge "$t/munge"
chmod 755 "$t/munge"
chmod 755 "$t"
host="$(hostname -s)"
port=$((20000 + ($$ % 4000) * 2))
cat > "$t/slurm.conf" <<EOF
ClusterName=lutc-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$t/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/run/slurmctld.pid
SlurmdPidFile=$t/run/slurmd.pid
SlurmctldLogFile=$t/log/slurmctld.log
SlurmdLogFile=$t/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=600
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$t/slurm.conf"

runuser -u munge -- munged --socket="$t/munge/munge.socket" --pid-file="$t/munge/munged.pid" \
  --log-file="$t/munge/munged.log" --seed-file="$t/munge/munged.seed"
for _ in $(seq 50); do [ -s "$t/munge/munged.pid" ] && break; sleep 0.1; done
cp "$t/munge/munged.pid" "$t/run/munged.pid"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"

state=""
for _ in $(seq 120); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)"
  [ "$state" = idle ] && break
  sleep 0.5
done
echo "sinfo:"; sinfo -N -l || true
if [ "$state" != idle ]; then
  echo "FAIL: node never became idle (state '$state')"
  tail -20 "$t"/log/*.log
  exit 1
fi

# The sweep: 3 quantization configs x 4 archs = 12 points in 4 shards. The
# SystemC model runs every point when this lutc has it; otherwise the
# bookkeeping stand-in engine does (and this says so).
cat > "$t/work/sweep.ini" <<'EOF'
[sweep]
name = slurm-test
weights = synth:64x256,96x256@3
[quant]
scheme = xfp.v2, int4.g128
bits = 3, 4
[arch]
core.lanes = 8, 16
hif.mant_bits = 6, 11
EOF
engine_flags=""
if "$lutc" --help | grep -q '^  sim '; then
  echo "engine: lutc sim (SystemC)"
else
  engine_flags="--engine-exe $stand_in"
  echo "engine: stand-in (this lutc has no sim command)"
fi

read -r array merge < <("$src/examples/slurm/submit-explore" "$lutc" "$t/work/sweep.ini" "$t/work/out" 4 $engine_flags)
echo "submitted array job $array (4 tasks) and merge job $merge (afterok:$array)"
for _ in $(seq 600); do
  if [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then break; fi
  sleep 0.5
done
squeue || true
echo "job outputs:"
for f in "$t/work/out"/*.out; do echo "== $(basename "$f")"; cat "$f"; done
[ -f "$t/work/out/merged/results.csv" ] || { echo "FAIL: the merge job wrote no results"; tail -30 "$t"/log/*.log; exit 1; }

# shellcheck disable=SC2086
"$lutc" explore "$t/work/sweep.ini" --out "$t/work/whole" --quiet $engine_flags > "$t/work/whole.log"
cmp "$t/work/out/merged/results.csv" "$t/work/whole/results.csv"
cmp "$t/work/out/merged/results.json" "$t/work/whole/results.json"
echo "PASS: Slurm array ($array) + merge ($merge) == unsharded run ($(($(wc -l < "$t/work/whole/results.csv") - 1)) points)"
