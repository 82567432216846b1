package b24fake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxBatch is the most commands one batch may hold.
const maxBatch = 50

// batch runs "method?query" commands with the caller's token. Failures land
// in result_error and the batch itself answers 200; with halt=1 the commands
// after the first failure are skipped. Empty sections are [] as in the
// documentation's examples.
func (p *Portal) batch(req *request) (any, *restError) {
	raw, _ := param(req.params, "cmd")
	keys, cmds, positional := batchCommands(raw, req.body)
	if len(keys) == 0 {
		return nil, argumentError("Argument 'cmd' is null or empty")
	}
	if len(keys) > maxBatch {
		return nil, &restError{http.StatusBadRequest, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded"}
	}
	halt := asString(func() any { v, _ := param(req.params, "halt"); return v }())
	stop := halt != "" && halt != "0" && halt != "false"

	results, errs, times := map[string]any{}, map[string]any{}, map[string]any{}
	totals, nexts := map[string]any{}, map[string]any{}
	for _, key := range keys {
		sub := p.runCommand(req, cmds[key])
		if sub.err != nil {
			errs[key] = map[string]any{"error": sub.err.code, "error_description": sub.err.description}
			if stop {
				break
			}
			continue
		}
		results[key], times[key] = sub.result, p.timeBlock(p.now())
		if sub.total != nil {
			totals[key] = *sub.total
		}
		if sub.next != nil {
			nexts[key] = *sub.next
		}
	}
	return map[string]any{
		"result": section(results, keys, positional), "result_error": section(errs, keys, positional),
		"result_total": section(totals, keys, positional), "result_next": section(nexts, keys, positional),
		"result_time": section(times, keys, positional),
	}, nil
}

type commandResult struct {
	result any
	err    *restError
	total  *int
	next   *int
}

func (p *Portal) runCommand(req *request, cmd string) commandResult {
	method, query, _ := strings.Cut(cmd, "?")
	method = normalizeMethod(method)
	if method == "batch" {
		return commandResult{err: &restError{http.StatusMethodNotAllowed, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage"}}
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return commandResult{err: argumentError("Command %q has an invalid query", cmd)}
	}
	sub := &request{ctx: req.ctx, method: method, params: DecodeForm(values), token: req.token, user: req.user, webhook: req.webhook}
	result, rerr := p.dispatch(sub)
	code := ""
	if rerr != nil {
		code = rerr.code
	}
	p.record(Call{Method: method, Params: sub.params, Token: req.token, Status: http.StatusOK, Error: code, InBatch: true, Time: p.now()})
	return commandResult{result: result, err: rerr, total: sub.total, next: sub.next}
}

// batchCommands returns the command keys in order and whether cmd was a list.
func batchCommands(raw any, body []byte) ([]string, map[string]string, bool) {
	cmds := map[string]string{}
	if list, ok := raw.([]any); ok {
		keys := make([]string, len(list))
		for i, c := range list {
			keys[i] = strconv.Itoa(i)
			cmds[keys[i]] = asString(c)
		}
		return keys, cmds, true
	}
	m := asMap(raw)
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k)
		cmds[k] = asString(v)
	}
	sort.Strings(keys)
	if ordered := jsonKeyOrder(body, "cmd"); len(ordered) == len(keys) {
		keys = ordered
	}
	return keys, cmds, false
}

// jsonKeyOrder returns the keys of the object field of a JSON body in the
// order they were written, as PHP keeps them; nil when body has no such
// object.
func jsonKeyOrder(body []byte, field string) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		if name, _ := t.(string); !strings.EqualFold(name, field) {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		return objectKeys(dec)
	}
	return nil
}

func objectKeys(dec *json.Decoder) []string {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := t.(string)
		keys = append(keys, key)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	return keys
}

// section renders one result section: [] when empty, a list for positional
// commands, else an object keyed by command.
func section(values map[string]any, keys []string, positional bool) any {
	if len(values) == 0 {
		return []any{}
	}
	if !positional {
		return values
	}
	var out []any
	for _, k := range keys {
		if v, ok := values[k]; ok {
			out = append(out, v)
		}
	}
	return out
}
