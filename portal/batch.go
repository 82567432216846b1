package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// MaxBatchCommands is the most commands Bitrix24 runs in one batch call.
const MaxBatchCommands = 50

// BatchCommand is one command of a batch. Params is nil, url.Values or a
// value encoded like a PHP form (see EncodeQuery); every value reaches the
// method as a string, so methods that need JSON booleans
// (imconnector.register) must not go through batch.
type BatchCommand struct {
	Key    string
	Method string
	Params any
}

// BatchResult is the decoded answer of a batch. A command appears in Results
// when it succeeded and in Errors when it failed; with halt, commands after
// the first failure appear in neither.
type BatchResult struct {
	Results map[string]json.RawMessage
	Errors  map[string]*APIError
	Totals  map[string]int
	Nexts   map[string]int
	Times   map[string]ResponseTime
	// Time is the time block of the batch call itself.
	Time ResponseTime
}

// Err returns the error of the command key, or nil when it succeeded.
func (r *BatchResult) Err(key string) error {
	if e, ok := r.Errors[key]; ok {
		return e
	}
	if _, ok := r.Results[key]; !ok {
		return fmt.Errorf("batch command %q was not executed", key)
	}
	return nil
}

// Batch runs up to MaxBatchCommands commands in one request, which spends one
// unit of the portal's rate limit. halt stops at the first failing command.
// The call itself fails only when the whole request failed; per-command
// errors are in the result and must not lead to repeating the whole batch,
// because the commands that succeeded are committed.
func (c *Client) Batch(ctx context.Context, portalID uint64, halt bool, cmds []BatchCommand) (*BatchResult, error) {
	body, idempotent, err := encodeBatch(halt, cmds)
	if err != nil {
		return nil, fmt.Errorf("batch on portal %d: %w", portalID, err)
	}
	t, err := c.portalTarget(ctx, portalID)
	if err != nil {
		return nil, fmt.Errorf("batch on portal %d: %w", portalID, err)
	}
	resp, err := c.call(ctx, t, "batch", body, idempotent)
	if err != nil {
		return nil, fmt.Errorf("batch on portal %d: %w", portalID, err)
	}
	res, err := decodeBatch(resp.Result)
	if err != nil {
		return nil, fmt.Errorf("batch on portal %d: %w", portalID, err)
	}
	res.Time = resp.Time
	return res, nil
}

func encodeBatch(halt bool, cmds []BatchCommand) (json.RawMessage, bool, error) {
	if len(cmds) == 0 {
		return nil, false, fmt.Errorf("batch has no commands")
	}
	if len(cmds) > MaxBatchCommands {
		return nil, false, fmt.Errorf("%w: %d, at most %d", ErrBatchTooLong, len(cmds), MaxBatchCommands)
	}
	idempotent := true
	seen := make(map[string]bool, len(cmds))
	// The cmd object is written by hand to keep the caller's order, which
	// decides what halt skips; encoding/json would sort the keys.
	var cmd bytes.Buffer
	cmd.WriteByte('{')
	for i, bc := range cmds {
		if bc.Key == "" || bc.Method == "" {
			return nil, false, fmt.Errorf("batch command %d has no key or method", i)
		}
		if seen[bc.Key] {
			return nil, false, fmt.Errorf("batch command key %q is used twice", bc.Key)
		}
		seen[bc.Key] = true
		query, err := batchQuery(bc.Params)
		if err != nil {
			return nil, false, fmt.Errorf("batch command %q: %w", bc.Key, err)
		}
		line := bc.Method
		if query != "" {
			line += "?" + query
		}
		if i > 0 {
			cmd.WriteByte(',')
		}
		key, _ := json.Marshal(bc.Key)
		value, _ := json.Marshal(line)
		cmd.Write(key)
		cmd.WriteByte(':')
		cmd.Write(value)
		idempotent = idempotent && IsIdempotent(bc.Method)
	}
	cmd.WriteByte('}')
	haltFlag := 0
	if halt {
		haltFlag = 1
	}
	body, err := json.Marshal(map[string]any{"halt": haltFlag, "cmd": json.RawMessage(cmd.Bytes())})
	return body, idempotent, err
}

func batchQuery(params any) (string, error) {
	switch p := params.(type) {
	case nil:
		return "", nil
	case url.Values:
		return p.Encode(), nil
	case string:
		return p, nil
	}
	return EncodeQuery(params)
}

// wireBatch is the result of batch; each section is an object keyed by
// command, or an empty (or positional) array.
type wireBatch struct {
	Result      json.RawMessage `json:"result"`
	ResultError json.RawMessage `json:"result_error"`
	ResultTotal json.RawMessage `json:"result_total"`
	ResultNext  json.RawMessage `json:"result_next"`
	ResultTime  json.RawMessage `json:"result_time"`
}

func decodeBatch(raw json.RawMessage) (*BatchResult, error) {
	var w wireBatch
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decode batch result: %w", err)
	}
	res := &BatchResult{
		Errors: map[string]*APIError{}, Totals: map[string]int{}, Nexts: map[string]int{}, Times: map[string]ResponseTime{},
	}
	var err error
	if res.Results, err = section(w.Result); err != nil {
		return nil, fmt.Errorf("decode batch result: %w", err)
	}
	errs, err := section(w.ResultError)
	if err != nil {
		return nil, fmt.Errorf("decode batch result_error: %w", err)
	}
	for k, v := range errs {
		res.Errors[k] = decodeCommandError(v)
		delete(res.Results, k)
	}
	if err := decodeNumbers(w.ResultTotal, res.Totals); err != nil {
		return nil, fmt.Errorf("decode batch result_total: %w", err)
	}
	if err := decodeNumbers(w.ResultNext, res.Nexts); err != nil {
		return nil, fmt.Errorf("decode batch result_next: %w", err)
	}
	times, err := section(w.ResultTime)
	if err != nil {
		return nil, fmt.Errorf("decode batch result_time: %w", err)
	}
	for k, v := range times {
		var wt wireTime
		if json.Unmarshal(v, &wt) == nil {
			res.Times[k] = wt.decode()
		}
	}
	return res, nil
}

// section decodes {"key": value} or [value, ...] (keys "0", "1", ...).
func section(raw json.RawMessage) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		for i, v := range list {
			out[strconv.Itoa(i)] = v
		}
		return out, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeNumbers(raw json.RawMessage, into map[string]int) error {
	values, err := section(raw)
	if err != nil {
		return err
	}
	for k, v := range values {
		var n flexNumber
		_ = n.UnmarshalJSON(v)
		into[k] = int(n)
	}
	return nil
}

// decodeCommandError reads {"error":..,"error_description":..} or a bare
// string as an in-200 APIError.
func decodeCommandError(raw json.RawMessage) *APIError {
	var body struct {
		Error       flexString `json:"error"`
		Description flexString `json:"error_description"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		return &APIError{HTTPStatus: 200, Code: string(body.Error), Description: string(body.Description)}
	}
	var text string
	_ = json.Unmarshal(raw, &text)
	return &APIError{HTTPStatus: 200, Code: "BATCH_COMMAND_FAILED", Description: text}
}
