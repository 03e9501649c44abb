package sip

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestOfferRoundTrip(t *testing.T) {
	o := offer{user: "dialtone", session: 42, addr: netip.MustParseAddr("127.0.0.1"), port: 40000,
		codecs: []string{CodecPCMA, CodecPCMU}}
	body := o.marshal()
	s := string(body)
	for _, want := range []string{"c=IN IP4 127.0.0.1\r\n", "m=audio 40000 RTP/AVP 8 0 101\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=ptime:20\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
	a, err := parseAnswer(body, o.codecs)
	if err != nil {
		t.Fatal(err)
	}
	if a.codec != CodecPCMA || a.pt != 8 || a.port != 40000 || a.dtmfPT != dtmfPT || a.addr.String() != "127.0.0.1" {
		t.Errorf("got %+v", a)
	}
}

func TestParseAnswer(t *testing.T) {
	both := []string{CodecPCMU, CodecPCMA}
	cases := []struct {
		name    string
		sdp     string
		offered []string
		want    answer
		err     bool
	}{
		{
			name: "sipp default",
			sdp: "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
				"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			offered: both,
			want:    answer{addr: netip.MustParseAddr("127.0.0.1"), port: 6000, codec: CodecPCMU, pt: 0, dtmfPT: -1},
		},
		{
			name: "media-level c= wins, answerer order, dynamic dtmf, LF only",
			sdp: "v=0\nc=IN IP4 10.0.0.1\nm=video 5000 RTP/AVP 96\nc=IN IP4 10.9.9.9\n" +
				"m=audio 7000 RTP/AVP 8 0 96\nc=IN IP4 192.0.2.5\na=rtpmap:96 telephone-event/8000\n",
			offered: both,
			want:    answer{addr: netip.MustParseAddr("192.0.2.5"), port: 7000, codec: CodecPCMA, pt: 8, dtmfPT: 96},
		},
		{
			name:    "ipv6",
			sdp:     "c=IN IP6 ::1\nm=audio 7000 RTP/AVP 0\n",
			offered: both,
			want:    answer{addr: netip.MustParseAddr("::1"), port: 7000, codec: CodecPCMU, dtmfPT: -1},
		},
		{name: "no common codec", sdp: "c=IN IP4 1.2.3.4\nm=audio 7000 RTP/AVP 18\n", offered: both, err: true},
		{name: "only offered pcmu", sdp: "c=IN IP4 1.2.3.4\nm=audio 7000 RTP/AVP 8\n", offered: []string{CodecPCMU}, err: true},
		{name: "rejected stream", sdp: "c=IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 0\n", offered: both, err: true},
		{name: "no audio", sdp: "v=0\nc=IN IP4 1.2.3.4\n", offered: both, err: true},
		{name: "bad address", sdp: "c=IN IP4 example.com\nm=audio 7000 RTP/AVP 0\n", offered: both, err: true},
		{name: "bad port", sdp: "c=IN IP4 1.2.3.4\nm=audio 99999 RTP/AVP 0\n", offered: both, err: true},
		{name: "srtp only", sdp: "c=IN IP4 1.2.3.4\nm=audio 7000 RTP/SAVP 0\n", offered: both, err: true},
		{name: "empty", sdp: "", offered: both, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseAnswer([]byte(c.sdp), c.offered)
			if c.err {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
	if _, err := parseAnswer([]byte("c=IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 0\n"), both); !errors.Is(err, errNoMedia) {
		t.Errorf("port 0: %v", err)
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("m=audio 1/2 RTP/AVP x\nc=IN IP4 ::/3\na=rtpmap:\na=rtpmap:1\na=rtpmap:999 X/8000/1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseAnswer(b, []string{CodecPCMU, CodecPCMA})
		if err == nil && (a.port <= 0 || a.port > 65535 || !a.addr.IsValid() || a.codec == "") {
			t.Fatalf("accepted unusable answer %+v", a)
		}
	})
}
