package vms

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

var knownProdIDs = map[int64]bool{
	dialtone.ProdVoiceNotify: true, dialtone.ProdVerificationCode: true, dialtone.ProdIVR: true,
	dialtone.ProdClickToDial: true, dialtone.ProdSIP: true, dialtone.ProdSmartCall: true,
}

// secondsCutoff separates QueryDate values in seconds from milliseconds: the
// seed document's own sample passes seconds (1577255564), the API takes
// milliseconds, and no millisecond value after 1973 is below it.
const secondsCutoff = 100_000_000_000

// QueryCallDetailByCallId answers the detail of one call of the account.
// An unknown call (or one outside the 24 hours starting at QueryDate, or of
// another ProdId) is answered OK without Data, as the service does while a
// record is not there.
func (s *Service) QueryCallDetailByCallId(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	callID, err := inv.Params.Required("CallId")
	if err != nil {
		return nil, err
	}
	prodID, err := inv.Params.RequiredInt64("ProdId")
	if err != nil {
		return nil, err
	}
	queryDate, err := inv.Params.RequiredInt64("QueryDate")
	if err != nil {
		return nil, err
	}
	if !knownProdIDs[prodID] {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "ProdId %d is not a voice product; use 11000000300006, 11010000138001, 11000000300005, 11000000300004 or 11030000180001.", prodID)
	}
	if queryDate <= 0 {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "QueryDate must be a positive Unix time in milliseconds.")
	}
	if queryDate < secondsCutoff {
		queryDate *= 1000
	}
	if len(callID) > 64 {
		return nil, dialtone.Errorf(dialtone.CodeParamLengthLimit, "CallId is longer than 64 characters.")
	}
	call, err := s.Store.GetCall(ctx, inv.Account.UID, callID)
	if errors.Is(err, dialtone.ErrNotFound) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	if call.ProdID != prodID || !inQueryWindow(call.CreatedAt, time.UnixMilli(queryDate)) {
		return map[string]any{}, nil
	}
	detail := CallDetail(call)
	if plan, err := dialtone.DecodePlan(call); err == nil && (plan.MachineDetection.On() || plan.Stream != nil || plan.Fork != nil || call.Kind == dialtone.KindSmartCall) {
		evs, err := s.Store.ListCallEvents(ctx, inv.Account.UID, callID)
		if err != nil {
			return nil, dialtone.SystemError(err)
		}
		if plan.MachineDetection.On() {
			AddAnsweredBy(detail, evs)
		}
		AddStream(detail, evs)
	}
	data, err := json.Marshal(detail)
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	return map[string]any{"Data": string(data)}, nil
}

// inQueryWindow accepts the 24 hours starting at q and, as older documents
// describe, the whole China-time day containing q.
func inQueryWindow(created, q time.Time) bool {
	if !created.Before(q) && created.Before(q.Add(24*time.Hour)) {
		return true
	}
	y1, m1, d1 := created.In(dialtone.ChinaTime).Date()
	y2, m2, d2 := q.In(dialtone.ChinaTime).Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// CallDetail is the Data document of QueryCallDetailByCallId.
func CallDetail(c *dialtone.Call) map[string]any {
	state := c.StatusCode
	if state == "" {
		state = liveState(c.State)
	}
	// startDate and endDate describe the conversation: both are "" when
	// nobody answered (reference §3.8), even though the leg has an end.
	talk := c.A
	if c.Kind == dialtone.KindClickToDial {
		talk = c.B
	}
	end := talk.End
	if talk.Start.IsZero() {
		end = time.Time{}
	}
	d := map[string]any{
		"caller":           c.Caller,
		"callee":           c.Callee,
		"callerShowNumber": c.CallerShowNumber,
		"calleeShowNumber": c.CalleeShowNumber,
		"startDate":        dialtone.FormatTime(talk.Start),
		"endDate":          dialtone.FormatTime(end),
		"duration":         c.Duration,
		"gmtCreate":        dialtone.FormatTime(c.CreatedAt),
		"state":            state,
		"stateDesc":        dialtone.StatusText(state),
	}
	if c.Kind == dialtone.KindClickToDial {
		d["aRingTime"] = dialtone.FormatTime(c.A.Ring)
		d["aEndTime"] = dialtone.FormatTime(c.A.End)
		d["bRingTime"] = dialtone.FormatTime(c.B.Ring)
		d["bEndTime"] = dialtone.FormatTime(c.B.End)
	}
	return d
}

// AddAnsweredBy adds to a call detail what the answering-machine detector
// said of the callee, when the call listened (Dialtone's extension, in
// the document's camelCase): answeredBy (human, machine_start,
// machine_end_beep, machine_end_silence, fax or unknown; the latest
// verdict while the call is live) and answeredByMs, the milliseconds from
// the answer to that decision (a number, as duration is).
func AddAnsweredBy(d map[string]any, events []dialtone.CallEvent) {
	if a, after, ok := dialtone.MachineVerdict(events); ok {
		d["answeredBy"] = a
		d["answeredByMs"] = after.Milliseconds()
	}
}

// liveState maps a call still in progress to the intermediate code a
// receipt would carry.
func liveState(s dialtone.CallState) string {
	switch s {
	case dialtone.CallRinging:
		return dialtone.StatusRinging
	case dialtone.CallAnswered:
		return dialtone.StatusCallerConnected
	case dialtone.CallBridged:
		return dialtone.StatusTalking
	}
	return dialtone.StatusConnectingCaller
}

// AddStream adds the call's media stream to a call detail, in the
// document's camelCase (Dialtone's extension): streamRole (agent or fork),
// streamSid, streamDurationMs, streamFramesSent, streamFramesReceived,
// streamDrops (numbers, as duration), streamEnd and streamEndDetail (why
// it ended): the agent stream's, or the fork's when the call had no agent;
// nothing when the call had no stream. While the call is live, the last
// stream that ended.
func AddStream(d map[string]any, evs []dialtone.CallEvent) {
	var sd map[string]string
	for i := len(evs) - 1; i >= 0 && sd == nil; i-- {
		ev := evs[i]
		switch {
		case ev.Type == "ended" && ev.Detail[dialtone.DetailStreamEnd] != "":
			sd = ev.Detail
		case ev.Type == "stream":
			sd = ev.Detail
		}
	}
	if sd == nil {
		return
	}
	for _, k := range []struct{ key, name string }{
		{dialtone.DetailStreamRole, "streamRole"}, {dialtone.DetailStreamSID, "streamSid"},
		{dialtone.DetailStreamEnd, "streamEnd"}, {dialtone.DetailStreamEndDetail, "streamEndDetail"},
	} {
		if v := sd[k.key]; v != "" {
			d[k.name] = v
		}
	}
	for _, k := range []struct{ key, name string }{
		{dialtone.DetailStreamDurationMS, "streamDurationMs"}, {dialtone.DetailStreamFramesOut, "streamFramesSent"},
		{dialtone.DetailStreamFramesIn, "streamFramesReceived"}, {dialtone.DetailStreamDrops, "streamDrops"},
	} {
		if n, err := strconv.ParseInt(sd[k.key], 10, 64); err == nil {
			d[k.name] = n
		}
	}
}
