package sdk_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// The examples follow the seed document's SDK samples (sections 4.1–4.6
// and 5). They run against the Dialtone started by TestMain: endpoint,
// accessKeyID and accessKeySecret are set there. In your program use
// sdk.FromEnv() or your own Config.

func exampleClient() *sdk.Client {
	c, err := sdk.New(sdk.Config{
		AccessKeyID:     accessKeyID,
		AccessKeySecret: accessKeySecret,
		Endpoint:        endpoint, // "127.0.0.1:8080": loopback, so http
	})
	if err != nil {
		log.Fatal(err)
	}
	return c
}

// Seed §4.1: a voice notification playing an approved voice file.
func ExampleClient_SingleCallByVoice() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.SingleCallByVoice(ctx, sdk.VoiceCall{
		CalledShowNumber: "057188880000",
		CalledNumber:     "13800000005",
		VoiceCode:        "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call accepted:", call.CallID != "")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdVoiceNotify}, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final state:", d.State, d.StateDesc)
	// Output:
	// call accepted: true
	// final state: 200000 用户听完语音/已接通
}

// Seed §4.1: a verification code read out from a TTS template.
func ExampleClient_SingleCallByTts() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.SingleCallByTts(ctx, sdk.TtsCall{
		CalledNumber:     "13800000001",
		CalledShowNumber: "057188880000",
		TtsCode:          "TTS_100001",
		TtsParam:         map[string]string{"code": "1234"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call accepted:", call.CallID != "")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdVerificationCode}, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final state:", d.State, "answered:", d.Answered())
	// Output:
	// call accepted: true
	// final state: 200000 answered: true
}

// Seed §4.2: an IVR call; the subscriber presses 1 and hears the prompt
// of key 1. Pressed keys come back in receipts (dtmf).
func ExampleClient_IvrCall() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.IvrCall(ctx, sdk.IvrCall{
		CalledNumber:     "13800000001",
		CalledShowNumber: "057188880000",
		StartCode:        "TTS_100003",
		StartTtsParams:   map[string]string{"order": "A-1"},
		MenuKeyMap: []sdk.MenuItem{
			{Key: "1", Code: "TTS_100004"},
			{Key: "2", Code: "TTS_100002", TtsParams: map[string]string{"name": "Ann", "order": "A-1"}},
		},
		Timeout: 3 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call accepted:", call.CallID != "")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdIVR}, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final state:", d.State)
	// Output:
	// call accepted: true
	// final state: 200000
}

// Seed §4.3: a two-leg call (click to dial).
func ExampleClient_ClickToDial() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.ClickToDial(ctx, sdk.ClickToDial{
		CallerShowNumber: "057188880000",
		CallerNumber:     "13800000006",
		CalledShowNumber: "057188880001",
		CalledNumber:     "13800000007",
		SessionTimeout:   2 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("call accepted:", call.CallID != "")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdClickToDial}, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("final state:", d.State, "callee answered:", !d.BRingTime.IsZero())
	// Output:
	// call accepted: true
	// final state: 200000 callee answered: true
}

// Seed §4.4: cancel a two-leg call while it is being set up.
func ExampleClient_CancelCall() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.ClickToDial(ctx, sdk.ClickToDial{
		CallerShowNumber: "057188880000",
		CallerNumber:     "13800000008",
		CalledShowNumber: "057188880001",
		CalledNumber:     "13800000009",
	})
	if err != nil {
		log.Fatal(err)
	}
	cancelled, err := c.CancelCall(ctx, call.CallID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cancelled:", cancelled)
	// Output:
	// cancelled: true
}

// Seed §4.6: the detail of a call, with typed fields and times in UTC+8.
func ExampleClient_QueryCallDetailByCallId() {
	ctx := context.Background()
	c := exampleClient()
	call, err := c.SingleCallByTts(ctx, sdk.TtsCall{
		CalledNumber:     "13800000002", // busy
		CalledShowNumber: "057188880000", TtsCode: "TTS_100002",
		TtsParam: map[string]string{"name": "Bob", "order": "B-2"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Poll until the call ends (WaitForCall does this for you).
	var d *sdk.CallDetail
	for d == nil || !d.Final() {
		time.Sleep(100 * time.Millisecond)
		d, err = c.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{
			CallID:    call.CallID,
			ProdID:    sdk.ProdVoiceNotify,
			QueryDate: time.Now().Add(-time.Minute),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("callee:", d.Callee, "shown:", d.CalleeShowNumber)
	fmt.Println("state:", d.State, "answered:", d.Answered(), "duration:", d.Duration)
	fmt.Println("created in the last minute:", time.Since(d.GmtCreate) < time.Minute)
	// Output:
	// callee: 13800000002 shown: 057188880000
	// state: 200002 answered: false duration: 0s
	// created in the last minute: true
}

// Seed §4.5: a smart call. The account's callback server (its
// smartcall_callback_url) hears each sentence and answers the next action;
// in your program serve sdk.SmartCallHandler with http.ListenAndServe.
func ExampleClient_SmartCall() {
	ctx := context.Background()
	c := exampleClient()
	heard := make(chan string, 10)
	serveCallback(sdk.SmartCallHandler(func(ctx context.Context, ev sdk.SmartCallEvent) (sdk.SmartCallAction, error) {
		if ev.ContentType != "normal" {
			return sdk.SmartCallAction{Action: "donothing"}, nil
		}
		heard <- ev.Words
		if ev.Words == "好的，谢谢" {
			return sdk.SmartCallAction{Action: "hangup"}, nil
		}
		return sdk.SmartCallAction{
			Action:          "play",
			ActionCode:      "$answer$",
			ActionCodeParam: map[string]string{"answer": "您的订单已发货"},
		}, nil
	}))
	call, err := c.SmartCall(ctx, sdk.SmartCall{
		CalledNumber:     "13800000003",
		CalledShowNumber: "057188880000",
		VoiceCode:        "$greeting$",
		VoiceCodeParam:   map[string]string{"greeting": "您好，请问有什么可以帮您"},
		MuteTime:         10 * time.Second,
		PauseTime:        800 * time.Millisecond,
		SessionTimeout:   5 * time.Minute,
		DynamicID:        "start",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdSmartCall}, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	close(heard)
	for words := range heard {
		fmt.Println("heard:", words)
	}
	fmt.Println("final state:", d.State)
	// Output:
	// heard: 我想查询订单
	// heard: 好的，谢谢
	// final state: 200000
}

// Seed §5: receive call records (VoiceReport) from the account's queue.
// The Consumer fetches a queue token with QueryTokenForMnsQueue, renews it
// before it expires, long-polls the queue and deletes what the handler
// accepted.
func ExampleConsumer() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exampleClient()
	call, err := c.SingleCallByTts(ctx, sdk.TtsCall{
		CalledNumber: "13800000004", CalledShowNumber: "057188880000",
		TtsCode: "TTS_100002", TtsParam: map[string]string{"name": "Eve", "order": "E-5"},
	})
	if err != nil {
		log.Fatal(err)
	}
	consumer := &sdk.Consumer{
		Client:      c,
		MessageType: sdk.VoiceReportType,
		AccountUID:  exampleUID, // the queue is Alicom-Queue-<uid>-VoiceReport
		Wait:        5 * time.Second,
		Concurrency: 4,
		Handler: func(ctx context.Context, r sdk.Receipt) error {
			if r.CallID == call.CallID {
				fmt.Println("call record:", r.Type, r.Voice.StatusCode, r.Voice.Callee)
				cancel() // stop after our call's record
			}
			return nil // accepted: deleted from the queue
		},
	}
	if err := consumer.Run(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// call record: VoiceReport 200001 13800000004
}

// Receive HTTP batch pushes signed with the subscription's push_secret.
func ExamplePushHandler() {
	got := make(chan sdk.Receipt, 100)
	pushes.Set(sdk.PushHandler(pushSecret, func(ctx context.Context, rs []sdk.Receipt) error {
		for _, r := range rs {
			got <- r
		}
		return nil // answers {"code":0,"msg":"接收成功"}
	}))
	// In your program: http.ListenAndServe(":9999", sdk.PushHandler(...)).
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exampleClient()
	call, err := c.SingleCallByTts(ctx, sdk.TtsCall{
		CalledNumber: "13800000001", CalledShowNumber: "057188880000",
		TtsCode: "TTS_100001", TtsParam: map[string]string{"code": "5678"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for {
		select {
		case r := <-got:
			if r.CallID == call.CallID && r.Call.StatusCode == "200102" {
				fmt.Println("pushed:", r.Type, "answered")
				return
			}
		case <-ctx.Done():
			log.Fatal("no push")
		}
	}
	// Output:
	// pushed: VoiceCallReport answered
}
