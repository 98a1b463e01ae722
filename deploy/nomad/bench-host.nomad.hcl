# bench-host on every E2B orchestrator node: one allocation per eligible node,
# each running `bench-host run` once and writing its documents, named after
# the node, to one object-store prefix. docs/nomad.md walks through a run.
#
#   nomad job run -var artifact_url=https://.../bench-host \
#     -var storage_url=s3://bench-results/fleet -var cloud=aws \
#     -var run_id=20261207T1000Z-fleet deploy/nomad/bench-host.nomad.hcl
#
# Like infra's orchestrator job it uses raw_exec: the task runs as the Nomad
# client's user (root) directly on the node, so it sees /dev/kvm, the
# hugepage pool and the template storage directory exactly as the
# orchestrator does. Secrets come from the Nomad Variable
# nomad/jobs/bench-host (a template below), never from this file.

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Datacenters to run in."
}

variable "node_pool" {
  type        = string
  default     = "default"
  description = "Node pool of the orchestrator nodes (infra's orchestrator_node_pool; \"default\" unless changed)."
}

variable "node_class" {
  type        = string
  default     = ""
  description = "Only nodes of this node class; empty = every node of the pool."
}

variable "artifact_url" {
  type        = string
  description = "Where Nomad downloads the static bench-host binary (any go-getter source: https://, s3::, gcs::)."
}

variable "artifact_sha256" {
  type        = string
  default     = ""
  description = "SHA-256 (hex) the downloaded binary must have; empty = not checked."
}

variable "storage_url" {
  type        = string
  description = "Results root: s3://bucket/prefix, gs://, az://; documents go to <storage_url>/<cloud>/."
}

variable "cloud" {
  type        = string
  description = "Cloud label of the run (aws, gcp, azure, ...)."
}

variable "run_id" {
  type        = string
  description = "Run id shared by every node (and by the bench-client shards of the same run)."
}

variable "quick" {
  type        = bool
  default     = false
  description = "bench-host run --quick: about a minute per node instead of several."
}

variable "run_args" {
  type        = list(string)
  default     = []
  description = "More flags for bench-host run, e.g. [\"--skip\", \"disk\"]."
}

variable "e2b_storage_dir" {
  type        = string
  default     = "/mnt/sdb/e2b-storage"
  description = "Template storage root on the nodes (E2B_STORAGE_DIR): the inventory's tree and the disk probe's scratch directory."
}

variable "strict" {
  type        = bool
  default     = false
  description = "Fail the allocation when bench-host exits 3 (some probe failed or was unavailable); by default that counts as done."
}

locals {
  # `sh -c SCRIPT bench-host FLAGS...`: checks the binary, runs it with the
  # job's flags, forwards Nomad's stop signal as SIGTERM (a background child
  # of sh ignores SIGINT) so the probe in progress can remove its scratch
  # file and write what finished, and maps exit 3 (done,
  # with reasons in each document's errors) to success unless strict:
  # rerunning cannot make a missing /dev/kvm or an empty hugepage pool
  # appear, it would only measure the node again and move this result to
  # history/. Nothing here uses the brace form of shell variables, which
  # Nomad would try to interpolate.
  wrapper = <<-EOT
    bin="$NOMAD_TASK_DIR/bench-host"
    if [ -n "${var.artifact_sha256}" ]; then
      echo "${var.artifact_sha256}  $bin" | sha256sum -c - >&2 || {
        echo "bench-host: $bin does not have the SHA-256 in artifact_sha256" >&2
        exit 2
      }
    fi
    chmod +x "$bin"
    "$bin" run "$@" &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null' INT TERM
    wait "$child"
    rc=$?
    # A signal ends wait early (status > 128): wait again for the child's
    # own exit status.
    while [ "$rc" -gt 128 ] && kill -0 "$child" 2>/dev/null; do
      wait "$child"
      rc=$?
    done
    if [ "$rc" -eq 3 ] && [ "${var.strict}" != true ]; then
      echo "bench-host: exit 3: finished, but some probes failed or were unavailable (the reasons are in each document's errors); counted as done, not rerun" >&2
      exit 0
    fi
    exit "$rc"
  EOT
}

job "bench-host" {
  type        = "sysbatch"
  datacenters = var.datacenters
  node_pool   = var.node_pool

  dynamic "constraint" {
    for_each = var.node_class == "" ? [] : [var.node_class]
    content {
      attribute = "${node.class}"
      value     = constraint.value
    }
  }

  group "bench-host" {
    task "bench-host" {
      driver = "raw_exec"

      # A failed run is not retried on its own: a second run would load the
      # node again and replace the first run's documents.
      restart {
        attempts = 0
        mode     = "fail"
      }

      artifact {
        source      = var.artifact_url
        destination = "local/bench-host"
        mode        = "file"
      }

      # Credentials for the results bucket (AWS_*, GOOGLE_*, AZURE_*), the
      # bucket the storage probe measures (STORAGE_URL) and the E2B database
      # for the template audit (DATABASE_URL): every item of the Nomad
      # Variable becomes an environment variable. JSON quoting keeps values
      # with newlines or quotes intact.
      template {
        destination = "secrets/bench.env"
        env         = true
        change_mode = "noop"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/bench-host" }}
          {{- range .Tuples }}
          {{ .K }}={{ .V | toJSON }}
          {{- end }}
          {{- end }}
        EOT
      }

      env {
        E2B_STORAGE_DIR = var.e2b_storage_dir
      }

      config {
        command = "/bin/sh"
        args = concat(
          [
            "-c", local.wrapper, "bench-host",
            "--node", "${node.unique.name}",
            "--cloud", var.cloud,
            "--run-id", var.run_id,
            "--output-dir", "${var.storage_url}/${var.cloud}",
          ],
          var.quick ? ["--quick"] : [],
          var.run_args,
        )
      }

      # Time to remove the disk probe's scratch file and write the
      # documents after Nomad's stop signal.
      kill_timeout = "60s"

      resources {
        cpu = 1000
        # STREAM's arrays, the pointer chase and the 4k/THP fault-in buffer
        # (hugetlb pages are counted apart).
        memory = 2048
      }
    }
  }
}
