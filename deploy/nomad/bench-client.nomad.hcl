# bench-client from N jump boxes at once: a batch job of `shards`
# allocations, allocation k running `bench-client run --shard k+1/N` with one
# run id, so the N shares of every suite add up to one run against the
# cluster, written to one object-store prefix. docs/nomad.md walks through a
# run.
#
#   nomad job run -var artifact_url=https://.../bench-client \
#     -var sandbox_artifact_url=https://.../bench-sandbox \
#     -var storage_url=s3://bench-results/fleet -var cloud=aws \
#     -var run_id=20261207T1000Z-fleet -var shards=4 \
#     deploy/nomad/bench-client.nomad.hcl
#
# The E2B API key and the rest of the client's configuration come from the
# Nomad Variable nomad/jobs/bench-client (a template below), never from
# this file.

variable "datacenters" {
  type        = list(string)
  default     = ["*"]
  description = "Datacenters to run in."
}

variable "node_pool" {
  type        = string
  default     = "default"
  description = "Node pool of the jump boxes (machines that reach the E2B API, not orchestrator nodes)."
}

variable "node_class" {
  type        = string
  default     = ""
  description = "Only nodes of this node class; empty = every node of the pool."
}

variable "distinct_hosts" {
  type        = bool
  default     = true
  description = "At most one shard per machine, so shards do not compete for one box's CPU and network."
}

variable "artifact_url" {
  type        = string
  description = "Where Nomad downloads the static bench-client binary (any go-getter source)."
}

variable "artifact_sha256" {
  type        = string
  default     = ""
  description = "SHA-256 (hex) the downloaded bench-client must have; empty = not checked."
}

variable "sandbox_artifact_url" {
  type        = string
  description = "The static bench-sandbox binary, placed beside bench-client, which uploads it into the sandboxes of the in-sandbox suite."
}

variable "sandbox_artifact_sha256" {
  type        = string
  default     = ""
  description = "SHA-256 (hex) the downloaded bench-sandbox must have; empty = not checked."
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
  description = "Run id of every shard (--shard requires it); the same as the host job's to report them together."
}

variable "shards" {
  type        = number
  default     = 2
  description = "Number of shards N: allocations of the job, each bench-client run --shard i/N."
}

variable "quick" {
  type        = bool
  default     = false
  description = "bench-client run --quick: every suite short."
}

variable "run_args" {
  type        = list(string)
  default     = []
  description = "More flags for bench-client run, e.g. [\"--template\", \"base\", \"--\", \"--skip\", \"pkg\"] (bench-sandbox's flags after --)."
}

variable "strict" {
  type        = bool
  default     = false
  description = "Fail the allocation when bench-client exits 3 (some probes failed); by default that counts as done."
}

locals {
  # `sh -c SCRIPT bench-client FLAGS...`: HCL has no arithmetic, so the
  # shell turns the 0-based NOMAD_ALLOC_INDEX into the 1-based shard. It
  # checks both binaries, forwards Nomad's stop signal as SIGTERM (a
  # background child of sh ignores SIGINT) so bench-client kills the
  # sandboxes it created and writes what finished, and maps exit 3 (done,
  # with reasons in the documents' errors) to success unless strict. No
  # brace-form shell variables: Nomad would try to interpolate them.
  wrapper = <<-EOT
    dir="$NOMAD_TASK_DIR"
    check() {
      [ -z "$2" ] && return 0
      echo "$2  $dir/$1" | sha256sum -c - >&2 && return 0
      echo "bench-client: $dir/$1 does not have the SHA-256 given for it" >&2
      exit 2
    }
    check bench-client "${var.artifact_sha256}"
    check bench-sandbox "${var.sandbox_artifact_sha256}"
    chmod +x "$dir/bench-client" "$dir/bench-sandbox"
    "$dir/bench-client" run --shard "$((NOMAD_ALLOC_INDEX + 1))/${var.shards}" "$@" &
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
      echo "bench-client: exit 3: finished, but some probes failed (the reasons are in the documents' errors); counted as done, not rerun" >&2
      exit 0
    fi
    exit "$rc"
  EOT
}

job "bench-client" {
  type        = "batch"
  datacenters = var.datacenters
  node_pool   = var.node_pool

  dynamic "constraint" {
    for_each = var.node_class == "" ? [] : [var.node_class]
    content {
      attribute = "${node.class}"
      value     = constraint.value
    }
  }

  group "shard" {
    count = var.shards

    dynamic "constraint" {
      for_each = var.distinct_hosts ? [true] : []
      content {
        operator = "distinct_hosts"
        value    = "true"
      }
    }

    # Never run a shard twice: a rerun would add a second share of load to
    # the cluster and replace the first one's documents.
    restart {
      attempts = 0
      mode     = "fail"
    }

    reschedule {
      attempts  = 0
      unlimited = false
    }

    task "bench-client" {
      driver = "raw_exec"

      artifact {
        source      = var.artifact_url
        destination = "local/bench-client"
        mode        = "file"
      }

      artifact {
        source      = var.sandbox_artifact_url
        destination = "local/bench-sandbox"
        mode        = "file"
      }

      # E2B_API_KEY, E2B_DOMAIN (or E2B_API_URL), E2B_TEMPLATES, and the
      # results bucket's credentials (AWS_*, GOOGLE_*, AZURE_*): every item
      # of the Nomad Variable becomes an environment variable. JSON quoting
      # keeps values with newlines or quotes intact.
      template {
        destination = "secrets/bench.env"
        env         = true
        change_mode = "noop"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs/bench-client" }}
          {{- range .Tuples }}
          {{ .K }}={{ .V | toJSON }}
          {{- end }}
          {{- end }}
        EOT
      }

      config {
        command = "/bin/sh"
        args = concat(
          [
            "-c", local.wrapper, "bench-client",
            "--node", "${node.unique.name}",
            "--cloud", var.cloud,
            "--run-id", var.run_id,
            "--output-dir", "${var.storage_url}/${var.cloud}",
          ],
          var.quick ? ["--quick"] : [],
          var.run_args,
        )
      }

      # Time to kill this shard's sandboxes and write its documents after
      # Nomad's stop signal.
      kill_timeout = "120s"

      resources {
        cpu    = 1000
        memory = 512
      }
    }
  }
}
