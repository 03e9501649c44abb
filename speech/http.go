package speech

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/outbound"
)

// HTTPRecognizer sends each utterance to a network ASR service. It is the
// way to real (and Mandarin) recognition: no such model is available
// offline, and every cloud or self-hosted ASR can be put behind this small
// contract with a few lines of glue.
//
// The contract:
//
//	POST <URL>?model=<Hints.Model>&language=<Hints.Language>&word=<w1>&word=<w2>&keyword=<k1>
//	Content-Type: audio/wav
//	<body: RIFF WAVE, PCM 16-bit little-endian, mono, 8000 Hz>
//
// Query parameters are present only when set. Header is added to every
// request (e.g. Authorization). The service answers 200 with
//
//	{"text": "recognised words", "confidence": 0.93}
//
// where text is "" when nothing was recognised and confidence (0…1) may be
// left out (taken as 1 when text is not empty, else 0). Any other status
// is an error, as is a body that is not that JSON object.
type HTTPRecognizer struct {
	// URL is the service's endpoint.
	URL string
	// Header is added to every request.
	Header http.Header
	// Client sends the requests: the node's one outbound client, whose
	// per-account caps count each request for Hints.Account. The URL is
	// node configuration, so the operator's (trusted). nil: a client of
	// its own.
	Client *outbound.Client
	// Timeout bounds one request; 0 is DefaultHTTPTimeout.
	Timeout time.Duration
}

// DefaultHTTPTimeout suits a service decoding a sentence: a caller waiting
// longer than this for an answer has already given up.
const DefaultHTTPTimeout = 10 * time.Second

// maxASRResponse bounds the answer we read: a transcript of one utterance
// is a few hundred bytes.
const maxASRResponse = 64 << 10

type httpAnswer struct {
	Text       *string  `json:"text"`
	Confidence *float64 `json:"confidence"`
}

// Recognize posts the utterance and returns the service's answer.
func (h *HTTPRecognizer) Recognize(ctx context.Context, audio *dialtone.Audio, hints Hints) (Result, error) {
	if err := checkAudio(audio); err != nil {
		return Result{}, err
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("asr: bad URL %q", h.URL)
	}
	q := u.Query()
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("model", hints.Model)
	set("language", hints.Language)
	for _, w := range hints.Words {
		q.Add("word", w)
	}
	for _, k := range hints.Keywords {
		q.Add("keyword", k)
	}
	u.RawQuery = q.Encode()
	wav, err := EncodeWAV(audio)
	if err != nil {
		return Result{}, err
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	header := h.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "audio/wav")
	header.Set("Accept", "application/json")
	client := h.Client
	if client == nil {
		if client, err = defaultClient(); err != nil {
			return Result{}, fmt.Errorf("asr: %w", err)
		}
	}
	m := outbound.Meta{Account: hints.Account, Purpose: outbound.PurposeRecognizer, Trust: outbound.Trusted, Wait: timeout}
	resp, err := client.Send(ctx, m, outbound.Request{URL: u.String(), Header: header, Body: wav})
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{}, fmt.Errorf("asr: %s: no answer within %s: %w", u.Host, timeout, ctx.Err())
		}
		return Result{}, fmt.Errorf("asr: %w", err)
	}
	if len(resp.Body) > maxASRResponse {
		return Result{}, fmt.Errorf("asr: %s answered %d bytes, more than %d", u.Host, len(resp.Body), maxASRResponse)
	}
	body := resp.Body
	if resp.Status != http.StatusOK {
		return Result{}, fmt.Errorf("asr: %s answered HTTP %d: %s", u.Host, resp.Status, snippet(body))
	}
	var ans httpAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return Result{}, fmt.Errorf("asr: %s answered bad JSON: %w", u.Host, err)
	}
	if ans.Text == nil {
		return Result{}, fmt.Errorf("asr: %s answered without \"text\": %s", u.Host, snippet(body))
	}
	res := Result{Text: strings.TrimSpace(*ans.Text)}
	switch {
	case ans.Confidence != nil:
		if c := *ans.Confidence; c < 0 || c > 1 {
			return Result{}, fmt.Errorf("asr: %s answered confidence %g outside 0…1", u.Host, c)
		}
		res.Confidence = *ans.Confidence
	case res.Text != "":
		res.Confidence = 1
	}
	return res, nil
}

var (
	defaultOnce sync.Once
	defaultOut  *outbound.Client
	defaultErr  error
)

// defaultClient is the client of recognisers built without one.
func defaultClient() (*outbound.Client, error) {
	defaultOnce.Do(func() { defaultOut, defaultErr = outbound.New(outbound.Config{}) })
	return defaultOut, defaultErr
}

// snippet is the start of a body for an error message, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
