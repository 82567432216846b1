package bench

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// latencySummary describes a set of response times.
type latencySummary struct {
	count         int
	p50, p99, max time.Duration
	mean          time.Duration
	overHundredMs int
}

// summarize returns the nearest-rank p50 and p99, the maximum, the mean and
// the number of samples over 100 ms. samples is not reordered.
func summarize(samples []time.Duration) latencySummary {
	s := latencySummary{count: len(samples)}
	if len(samples) == 0 {
		return s
	}
	var total time.Duration
	for _, d := range samples {
		total += d
		s.max = max(s.max, d)
		if d > 100*time.Millisecond {
			s.overHundredMs++
		}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	s.p50 = percentile(sorted, 50)
	s.p99 = percentile(sorted, 99)
	s.mean = total / time.Duration(len(samples))
	return s
}

// percentile returns the nearest-rank percentile p (0 < p <= 100) of
// sorted, or 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// windowP99 returns the nearest-rank p99 of each consecutive run of size
// samples, in order. The last window may be shorter.
func windowP99(samples []time.Duration, size int) []time.Duration {
	var out []time.Duration
	for i := 0; i < len(samples) && size > 0; i += size {
		window := slices.Clone(samples[i:min(i+size, len(samples))])
		slices.Sort(window)
		out = append(out, percentile(window, 99))
	}
	return out
}

// formatMillis prints durations as milliseconds with one decimal.
func formatMillis(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
	}
	return strings.Join(parts, " ")
}

// perBucket counts times in consecutive buckets of width from start. A time
// before start counts in the first bucket.
func perBucket(times []time.Time, start time.Time, width time.Duration) []int {
	var counts []int
	for _, t := range times {
		i := max(0, int(t.Sub(start)/width))
		for len(counts) <= i {
			counts = append(counts, 0)
		}
		counts[i]++
	}
	return counts
}

// formatBuckets prints bucket counts ten to a line, each line labelled with
// the start of its first bucket in seconds.
func formatBuckets(counts []int, width time.Duration) string {
	var sb strings.Builder
	for i := 0; i < len(counts); i += 10 {
		fmt.Fprintf(&sb, "%6.1fs:", (time.Duration(i) * width).Seconds())
		for _, c := range counts[i:min(i+10, len(counts))] {
			fmt.Fprintf(&sb, " %4d", c)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// runLengths prints values in order with repeats folded, such as
// "1, 10×97, 8, 1×3".
func runLengths(values []int) string {
	var parts []string
	for i := 0; i < len(values); {
		j := i
		for j < len(values) && values[j] == values[i] {
			j++
		}
		if j-i == 1 {
			parts = append(parts, strconv.Itoa(values[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d×%d", values[i], j-i))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}

// formatTable aligns rows in columns, the first row being the header.
func formatTable(rows [][]string) string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	_ = tw.Flush()
	return sb.String()
}

// millis formats a duration in milliseconds with two decimals.
func millis(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// deliveryCheck is what arrived at the portal of messages whose text is
// "chat C msg N", numbered from 1 within each chat.
type deliveryCheck struct {
	distinct   int
	duplicates int
	// rejected counts elements the portal returned with SUCCESS false.
	rejected int
	// violations counts messages that arrived after a higher-numbered
	// message of the same chat.
	violations       int
	violationsByChat map[string]int
}

// checkDelivery reads the messages the portal received, in arrival order.
func checkDelivery(got []b24fake.ReceivedMessage) (deliveryCheck, error) {
	c := deliveryCheck{violationsByChat: map[string]int{}}
	seen := map[string]bool{}
	highest := map[string]int{}
	for _, r := range got {
		if !r.Success {
			c.rejected++
			continue
		}
		if seen[r.ExternalID] {
			c.duplicates++
			continue
		}
		seen[r.ExternalID] = true
		text, _ := r.Message["text"].(string)
		var chat, n int
		if _, err := fmt.Sscanf(text, "chat %d msg %d", &chat, &n); err != nil {
			return c, fmt.Errorf("message %s has text %q, expected \"chat C msg N\": %w", r.ExternalID, text, err)
		}
		key := fmt.Sprint(chat)
		if n < highest[key] {
			c.violations++
			c.violationsByChat[key]++
		}
		highest[key] = max(highest[key], n)
	}
	c.distinct = len(seen)
	return c, nil
}
