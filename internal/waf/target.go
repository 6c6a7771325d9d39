package waf

import (
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
)

// setRawTarget gives Coraza the request-target as the client sent it
// (reqctx.Info.Target) in REQUEST_URI_RAW and REQUEST_LINE, the variables
// the CRS reads for what was on the wire (920100 an absolute-form target,
// 930100 and 930110 encoded traversals). REQUEST_URI, REQUEST_FILENAME,
// REQUEST_BASENAME, QUERY_STRING and ARGS_GET come from the normalised
// target the edge set in Request.RequestURI (package reqpath), the one
// the origin receives, so that exclusions by path (waf.exclusions,
// waf.apps) match what the origin serves. It reports whether Coraza took
// the values (false only if its variables change type).
func setRawTarget(tx types.Transaction, raw, method, proto string) bool {
	st, ok := tx.(plugintypes.TransactionState)
	if !ok {
		return false
	}
	v := st.Variables()
	uri, ok1 := v.RequestURIRaw().(interface{ Set(string) })
	line, ok2 := v.RequestLine().(interface{ Set(string) })
	if !ok1 || !ok2 {
		return false
	}
	uri.Set(raw)
	line.Set(method + " " + raw + " " + proto)
	return true
}
