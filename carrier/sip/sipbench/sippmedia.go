package sipbench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dialtone-voice/dialtone/media/g711"
)

// rtpScenarioFile and rtpToneFile are written into the SIPp caller's
// working directory by writeRTPScenario.
const (
	rtpScenarioFile = "uac-rtp.xml"
	rtpToneFile     = "tone-ulaw.wav"
)

// rtpScenario is SIPp's caller with media: the messages of its built-in
// uac scenario, an SDP offering PCMU on the port SIPp's RTP streamer
// sends from, and the tone streamed (looped) from the ACK until the BYE.
// The <pause/> is -d long.
const rtpScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="uac with G.711 RTP">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpstream_audio_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="` + rtpToneFile + `,-1,0"/></action></nop>
  <pause/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// writeRTPScenario writes the scenario and its one second of µ-law tone
// into dir.
func writeRTPScenario(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, rtpScenarioFile), []byte(rtpScenario), 0o600); err != nil {
		return fmt.Errorf("sipp rtp scenario: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, rtpToneFile), muLawWAV(g711.EncodeMuLaw(Tone(time.Second, 440).Samples)), 0o600); err != nil {
		return fmt.Errorf("sipp rtp scenario: %w", err)
	}
	return nil
}

// muLawWAV wraps 8 kHz mono µ-law bytes in a WAV header (format 7). SIPp
// skips the header and sends the data as RTP payload as it is.
func muLawWAV(data []byte) []byte {
	h := make([]byte, 44, 44+len(data))
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(data)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 7) // µ-law
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], sampleRate)
	binary.LittleEndian.PutUint32(h[28:], sampleRate) // bytes per second
	binary.LittleEndian.PutUint16(h[32:], 1)          // block align
	binary.LittleEndian.PutUint16(h[34:], 8)          // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(data)))
	return append(h, data...)
}
