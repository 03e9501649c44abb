package mns

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzBatchDeleteBody feeds arbitrary bodies to the XML reader of
// BatchDeleteMessage and each ReceiptHandle to the handle parser, as
// deleteBatch does: no panic, and an accepted handle names exactly the
// message and random part it was made of.
func FuzzBatchDeleteBody(f *testing.F) {
	h := NewHandle(NewMessageID())
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><ReceiptHandles xmlns="http://mns.aliyuncs.com/doc/v1/"><ReceiptHandle>` + h + `</ReceiptHandle></ReceiptHandles>`,
		`<ReceiptHandles><ReceiptHandle> ` + h + ` </ReceiptHandle><ReceiptHandle>x</ReceiptHandle></ReceiptHandles>`,
		`<ReceiptHandles></ReceiptHandles>`,
		`<ReceiptHandles><ReceiptHandle><![CDATA[` + h + `]]></ReceiptHandle>`,
		`<!DOCTYPE x [<!ENTITY a "aaaa">]><ReceiptHandles><ReceiptHandle>&a;</ReceiptHandle></ReceiptHandles>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := http.NewRequest(http.MethodDelete, "http://127.0.0.1/queues/q/messages", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var rh receiptHandles
		if err := readXML(r, &rh); err != nil {
			if err != errMalformedXML {
				t.Fatalf("error %v, want MalformedXML", err)
			}
			return
		}
		for _, h := range rh.Handles {
			h = strings.TrimSpace(h)
			ref, ok := refFor(h)
			if !ok {
				continue
			}
			if ref.MessageID+"-"+ref.Handle != h {
				t.Fatalf("handle %q parsed as %+v", h, ref)
			}
			if _, ok := ParseHandle(h); !ok {
				t.Fatalf("refFor accepted %q but ParseHandle does not", h)
			}
		}
	})
}

// FuzzSendMessageBody: the SendMessage XML reader never panics and either
// fails with MalformedXML or yields a body.
func FuzzSendMessageBody(f *testing.F) {
	for _, s := range []string{
		`<Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>aGk=</MessageBody><DelaySeconds>0</DelaySeconds><Priority>8</Priority></Message>`,
		`<Message><Priority>x</Priority></Message>`,
		`<Message><DelaySeconds>99999999999999999999</DelaySeconds></Message>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/queues/q/messages", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var sb sendBody
		if err := readXML(r, &sb); err != nil && err != errMalformedXML {
			t.Fatalf("error %v, want MalformedXML", err)
		}
	})
}
