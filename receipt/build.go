// Package receipt turns call events into Alibaba receipt messages
// (VoiceReport, VoiceCallReport, VoiceRecordReport), keeps them in the
// outbox and delivers them to MNS-compatible queues and HTTP push.
package receipt

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Builder makes the receipts of one call change. It is the engine's
// Receipts hook, so receipts are written in the same transaction as the
// change that causes them.
type Builder struct {
	// RecordURL returns the signed URL of a call's recording (file is the
	// name the engine stored it under); nil leaves record_file empty.
	RecordURL func(accountUID, callID, file string) string
}

// progressCodes are the events that become VoiceCallReport messages.
var progressCodes = map[string]bool{
	dialtone.StatusConnectingCaller: true, // 200101
	dialtone.StatusRinging:          true, // 200201
	dialtone.StatusCallerConnected:  true, // 200102
	dialtone.StatusTalking:          true, // 200103
	dialtone.StatusDTMF:             true, // 300000
	dialtone.StatusTwoLegEnded:      true, // 200100
}

// Build returns the receipts caused by events of call c (c already holds
// the state after them).
func (b *Builder) Build(c *dialtone.Call, events []dialtone.CallEvent) []dialtone.Receipt {
	var out []dialtone.Receipt
	for _, ev := range events {
		if ev.StatusCode != "" && progressCodes[ev.StatusCode] {
			// Two-leg calls report 200102/200103 for their own phases; the
			// B leg's ringing is not a VoiceCallReport of its own.
			if !(c.Kind == dialtone.KindClickToDial && ev.StatusCode == dialtone.StatusRinging) {
				out = append(out, b.receipt(c, ev, dialtone.MsgVoiceCallReport, callReport(c, ev)))
			}
		}
		switch ev.Type {
		case "ended":
			m := VoiceReport(c)
			// Only smart calls that asked for early-media detection
			// (EarlyMediaAsr) and were not answered carry the field.
			if code := ev.Detail["early_media_code"]; code != "" && c.Kind == dialtone.KindSmartCall {
				m["early_media_code"] = code
			}
			// Dialtone's extension: who answered, when the call listened
			// (the account's machine_detection), and how long the
			// decision took in milliseconds (a string, as Alibaba's
			// values are).
			if a := ev.Detail[dialtone.DetailAnsweredBy]; a != "" {
				m["answered_by"] = a
				m["answered_by_ms"] = ev.Detail[dialtone.DetailAnsweredByMS]
			}
			// Dialtone's extension: the call's media stream (its agent's,
			// or its fork's), strings as Alibaba's values are:
			// stream_role, stream_sid, stream_duration_ms,
			// stream_frames_sent, stream_frames_received, stream_drops,
			// stream_end and stream_end_detail.
			if ev.Detail[dialtone.DetailStreamEnd] != "" {
				for _, k := range dialtone.StreamDetailKeys {
					if v, ok := ev.Detail[k]; ok {
						m[k] = v
					}
				}
			}
			out = append(out, b.receipt(c, ev, dialtone.MsgVoiceReport, m))
		case "recording":
			out = append(out, b.receipt(c, ev, dialtone.MsgVoiceRecordReport, b.recordReport(c, ev)))
		}
	}
	return out
}

func (b *Builder) receipt(c *dialtone.Call, ev dialtone.CallEvent, msgType string, body map[string]any) dialtone.Receipt {
	// The ID is derived from the call and the event's position, so a
	// change retried after a conflict makes the same IDs again.
	id := c.ID + "-" + strconv.Itoa(ev.Seq) + "-" + msgType
	body["receipt_id"] = id
	data, _ := json.Marshal(body)
	return dialtone.Receipt{ID: id, AccountUID: c.AccountUID, CallID: c.ID, MessageType: msgType, Body: data, CreatedAt: ev.At}
}

func smartCode(c *dialtone.Call, ev dialtone.CallEvent) string {
	if ev.StatusCode == dialtone.StatusTwoLegEnded {
		return c.SmartStatusCode
	}
	switch ev.StatusCode {
	case dialtone.StatusCallerConnected, dialtone.StatusTalking, dialtone.StatusDTMF:
		return "ANSWERED"
	}
	return ""
}

func callReport(c *dialtone.Call, ev dialtone.CallEvent) map[string]any {
	m := map[string]any{
		"call_id":           c.ID,
		"status_code":       ev.StatusCode,
		"smart_status_code": smartCode(c, ev),
		"status_time":       dialtone.FormatTime(ev.At),
		"out_id":            c.OutID,
	}
	if ev.StatusCode == dialtone.StatusDTMF {
		m["dtmf"] = ev.Detail["digits"]
	}
	return m
}

func seconds(start, end time.Time) int {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return 0
	}
	d := end.Sub(start)
	s := int(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// VoiceReport is the call-record message of a finished call, with the
// fields of its product's variant. Values are strings where Alibaba sends
// strings (b_duration is a number, as in Alibaba's examples).
func VoiceReport(c *dialtone.Call) map[string]any {
	m := map[string]any{
		"call_id":           c.ID,
		"caller":            c.Caller,
		"callee":            c.Callee,
		"start_time":        dialtone.FormatTime(c.A.Start),
		"end_time":          dialtone.FormatTime(c.A.End),
		"duration":          strconv.Itoa(c.Duration),
		"status_code":       c.StatusCode,
		"smart_status_code": c.SmartStatusCode,
		"status_msg":        c.StatusMsg,
		"out_id":            c.OutID,
		"hangup_direction":  c.HangupDirection,
		"toll_type":         "UNKNOWN",
		"originate_time":    dialtone.FormatTime(c.A.Originate),
		"ring_time":         dialtone.FormatTime(c.A.Ring),
		"voice_type":        "voice",
		"extend":            "",
	}
	switch c.Kind {
	case dialtone.KindIVR:
		m["dtmf"] = c.DTMF
	case dialtone.KindClickToDial:
		m["caller_show_num"] = c.CallerShowNumber
		m["callee_show_num"] = c.CalleeShowNumber
		for leg, t := range map[string]dialtone.LegTimes{"a": c.A, "b": c.B} {
			m[leg+"_originate_time"] = dialtone.FormatTime(t.Originate)
			m[leg+"_ring_time"] = dialtone.FormatTime(t.Ring)
			m[leg+"_start_time"] = dialtone.FormatTime(t.Start)
			m[leg+"_end_time"] = dialtone.FormatTime(t.End)
		}
		m["a_duration"] = strconv.Itoa(seconds(c.A.Start, c.A.End))
		m["b_duration"] = seconds(c.B.Start, c.B.End)
		// For a two-leg call the conversation is the bridged time.
		m["start_time"] = dialtone.FormatTime(c.B.Start)
		m["end_time"] = dialtone.FormatTime(c.B.End)
	case dialtone.KindSmartCall:
		m["dtmf"] = c.DTMF
		m["b_originate_time"] = dialtone.FormatTime(c.A.Originate)
		m["b_ring_time"] = dialtone.FormatTime(c.A.Ring)
		m["b_start_time"] = dialtone.FormatTime(c.A.Start)
		m["b_end_time"] = dialtone.FormatTime(c.A.End)
		m["b_duration"] = c.Duration
	}
	return m
}

func (b *Builder) recordReport(c *dialtone.Call, ev dialtone.CallEvent) map[string]any {
	url := ""
	if b.RecordURL != nil && ev.Detail["file"] != "" {
		url = b.RecordURL(c.AccountUID, c.ID, ev.Detail["file"])
	}
	start, end := c.A.Start, c.A.End
	if c.Kind == dialtone.KindClickToDial {
		start, end = c.B.Start, c.B.End
	}
	return map[string]any{
		"call_id":           c.ID,
		"start_time":        dialtone.FormatTime(start),
		"end_time":          dialtone.FormatTime(end),
		"duration":          strconv.Itoa(seconds(start, end)),
		"status_code":       c.StatusCode,
		"smart_status_code": c.SmartStatusCode,
		"record_file":       url,
		"out_id":            c.OutID,
		"record_begin_time": dialtone.FormatTime(start),
	}
}
