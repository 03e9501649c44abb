package dialtone

import (
	"context"
	"time"
)

// CallStats aggregates an account's calls created in [Since, Until).
type CallStats struct {
	Since, Until time.Time
	Bucket       time.Duration
	// Counts[i] is the number of calls created in
	// [Since+i*Bucket, Since+(i+1)*Bucket).
	Counts []int
	Total  int
	// Answered counts calls whose first leg was answered.
	Answered int
	// ByStatus counts calls by final status code; "" holds the calls that
	// have no status code yet (still live).
	ByStatus map[string]int
}

// AnswerRate is Answered/Total, 0 without calls.
func (s *CallStats) AnswerRate() float64 {
	if s.Total == 0 {
		return 0
	}
	return float64(s.Answered) / float64(s.Total)
}

// CallStatsStore computes call aggregates in the store, so that a console
// page does not have to read every call.
type CallStatsStore interface {
	// CallStats counts the account's calls created in [since, until) in
	// buckets of bucket (> 0) starting at since, with the answered count
	// and the status-code breakdown over the whole range.
	CallStats(ctx context.Context, accountUID string, since, until time.Time, bucket time.Duration) (*CallStats, error)
}
