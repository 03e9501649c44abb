package pop

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// Content types the official clients expect. darabonba parses an error body
// as XML only when the content type is exactly "text/xml;charset=utf-8".
const (
	ContentTypeJSON = "application/json;charset=utf-8"
	ContentTypeXML  = "text/xml;charset=utf-8"
)

// WriteResult writes a successful or business response: HTTP 200 with the
// fields (which must include RequestId) as JSON, or as XML under
// <ActionResponse> when asXML.
func WriteResult(w http.ResponseWriter, action string, fields map[string]any, asXML bool) {
	if asXML {
		writeXML(w, http.StatusOK, action+"Response", fields)
		return
	}
	writeJSON(w, http.StatusOK, fields)
}

// WriteError writes a gateway error in the POP envelope. Every value is a
// string: tea and alibaba-cloud-sdk-go type-assert them and panic otherwise.
func WriteError(w http.ResponseWriter, e *Error, requestID, hostID, recommend string, asXML bool) {
	body := map[string]any{
		"RequestId": requestID,
		"HostId":    hostID,
		"Code":      e.Code,
		"Message":   e.Message,
		"Recommend": recommend,
	}
	if asXML {
		writeXML(w, e.Status, "Error", body)
		return
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Messages carry Chinese text and "<" in strings to sign; keep them
	// readable rather than \u-escaped.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"Code":"InternalError","Message":"The response could not be encoded."}`)
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.WriteHeader(status)
	w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

func writeXML(w http.ResponseWriter, status int, root string, v map[string]any) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	writeXMLValue(&buf, root, v)
	w.Header().Set("Content-Type", ContentTypeXML)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeXMLValue(buf *bytes.Buffer, name string, v any) {
	switch t := v.(type) {
	case map[string]any:
		buf.WriteString("<" + name + ">")
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeXMLValue(buf, k, t[k])
		}
		buf.WriteString("</" + name + ">")
	case []any:
		for _, item := range t {
			writeXMLValue(buf, name, item)
		}
	default:
		buf.WriteString("<" + name + ">")
		xml.EscapeText(buf, []byte(scalar(t)))
		buf.WriteString("</" + name + ">")
	}
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
