package sdk

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The MNS dialect (x-mns-version 2015-06-06) of the receipt queues, as the
// official dybaseapi/mns client speaks it (wire-protocol §6).

const mnsVersion = "2015-06-06"

type mnsClient struct {
	base  string // scheme://host:port
	hc    *http.Client
	token func() *Token
}

type mnsMessage struct {
	MessageID        string `xml:"MessageId"`
	ReceiptHandle    string `xml:"ReceiptHandle"`
	MessageBody      string `xml:"MessageBody"`
	EnqueueTime      int64  `xml:"EnqueueTime"`
	FirstDequeueTime int64  `xml:"FirstDequeueTime"`
	DequeueCount     int    `xml:"DequeueCount"`
}

type mnsError struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
}

func (m *mnsClient) do(ctx context.Context, op, method, queue, query string, body []byte) (*http.Response, []byte, error) {
	resource := "/queues/" + url.PathEscape(queue) + "/messages"
	if query != "" {
		resource += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+resource, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	sum := md5.Sum(body)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	date := time.Now().UTC().Format(http.TimeFormat)
	tok := m.token()
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Content-MD5", md5b64)
	req.Header.Set("Date", date)
	req.Header.Set("x-mns-version", mnsVersion)
	if tok.SecurityToken != "" {
		req.Header.Set("security-token", tok.SecurityToken)
	}
	sts := mnsStringToSign(method, md5b64, "text/xml", date, map[string]string{"x-mns-version": mnsVersion}, resource)
	req.Header.Set("Authorization", "MNS "+tok.AccessKeyID+":"+mnsSign(tok.AccessKeySecret, sts))
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("dialtone %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("dialtone %s: reading the reply: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		var e mnsError
		_ = xml.Unmarshal(data, &e)
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(data[:min(len(data), 300)]))
		}
		return resp, data, &Error{Code: e.Code, Message: e.Message, RequestID: e.RequestID, HTTPStatus: resp.StatusCode, Action: op}
	}
	return resp, data, nil
}

// receive long-polls up to n messages; an empty queue gives (nil, nil).
func (m *mnsClient) receive(ctx context.Context, queue string, n int, wait time.Duration) ([]mnsMessage, error) {
	q := "numOfMessages=" + strconv.Itoa(n) + "&waitseconds=" + strconv.Itoa(int(wait/time.Second))
	_, data, err := m.do(ctx, "BatchReceiveMessage", http.MethodGet, queue, q, nil)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Code == "MessageNotExist" {
			return nil, nil
		}
		return nil, err
	}
	var msgs struct {
		Messages []mnsMessage `xml:"Message"`
	}
	if err := xml.Unmarshal(data, &msgs); err != nil {
		return nil, fmt.Errorf("dialtone BatchReceiveMessage: bad XML: %w", err)
	}
	return msgs.Messages, nil
}

// remove deletes messages by receipt handle.
func (m *mnsClient) remove(ctx context.Context, queue string, handles []string) error {
	if len(handles) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ReceiptHandles xmlns="http://mns.aliyuncs.com/doc/v1/">`)
	for _, h := range handles {
		b.WriteString("<ReceiptHandle>")
		xml.EscapeText(&b, []byte(h))
		b.WriteString("</ReceiptHandle>")
	}
	b.WriteString("</ReceiptHandles>")
	_, _, err := m.do(ctx, "BatchDeleteMessage", http.MethodDelete, queue, "", []byte(b.String()))
	return err
}

// changeVisibility makes a message visible again after d.
func (m *mnsClient) changeVisibility(ctx context.Context, queue, handle string, d time.Duration) error {
	secs := max(1, int((d+time.Second-1)/time.Second))
	q := "receiptHandle=" + url.QueryEscape(handle) + "&visibilityTimeout=" + strconv.Itoa(secs)
	_, _, err := m.do(ctx, "ChangeMessageVisibility", http.MethodPut, queue, q, nil)
	return err
}

// decodeMessage turns a queue message into a Receipt.
func decodeMessage(m mnsMessage, msgType string) Receipt {
	body, err := base64.StdEncoding.DecodeString(strings.TrimSpace(m.MessageBody))
	if err != nil {
		body = []byte(m.MessageBody) // not base64: hand the text over as is
	}
	r := decodeReceipt(body, msgType)
	r.MessageID, r.DequeueCount, r.handle = m.MessageID, m.DequeueCount, m.ReceiptHandle
	if m.EnqueueTime > 0 {
		r.EnqueueTime = time.UnixMilli(m.EnqueueTime)
	}
	return r
}
