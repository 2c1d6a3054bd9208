package farm

// The worker API's calls, under /api/worker/v1 of each server.

// ClaimRequest is what a worker serves (its name, when given, must be its
// token's) and how long it waits for a build.
type ClaimRequest struct {
	Worker
	Wait float64 `json:"wait_seconds"`
}

// HeartbeatRequest and HeartbeatReply renew a lease.
type (
	HeartbeatRequest struct {
		Stage string `json:"stage"`
	}
	HeartbeatReply struct {
		Cancel bool `json:"cancel"`
	}
)

// LeaseHeader carries the lease token on the worker API's build calls.
const LeaseHeader = "Fbs-Lease"

// SHA256Header carries an uploaded artifact's sha256.
const SHA256Header = "Fbs-Sha256"
