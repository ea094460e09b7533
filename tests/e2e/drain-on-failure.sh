# Read by every bash step of the e2e runs (BASH_ENV, given by tests/actrun.py); not part of any workflow.
# act's host mode runs a step on a pseudo-terminal and, when the step fails, closes it as soon as the
# process exits, before the last output is read (act pkg/container/host_environment.go, exec: the
# `return err` after cmd.Run() comes before `<-logctx.Done()`). The lost lines are the step's last:
# its ::error annotation. A step that prints one and exits 1 lost it in 9 of 300 act runs here, 18 of
# 300 with both cores busy. Waiting 0.3 s or 0.05 s on failure: 0 of 1,800. A failing bash step waits
# 0.1 s before it exits, so its last lines are read (tests/test_e2e_harness.py keeps it so).
trap 'status=$?; [ "$status" -eq 0 ] || sleep 0.1; exit "$status"' EXIT
