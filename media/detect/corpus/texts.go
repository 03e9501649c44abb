package corpus

// The texts the corpus speaks. Greetings are assembled from sentences as
// voicemail greetings and network mailboxes word them; people answer with
// a word or two, and when nobody speaks back, ask again.

type language struct {
	name string
	// voices are espeak-ng voices (variants after +).
	voices    []string
	greetings []string // sentences of a machine's greeting
	openers   []string // a greeting's first sentence
	hellos    []string // how a person answers
	again     []string // what a person says when nobody answers them
	names     []string
}

var languages = map[string]*language{
	"en": {
		name:   "English",
		voices: []string{"en-us", "en-gb", "en-us+f3", "en-gb+f2", "en-us+m3", "en-gb-x-rp", "en-us+f4", "en-029"},
		openers: []string{
			"Hi, you've reached {name}.",
			"Hello, this is {name}.",
			"You have reached the voicemail of {name}.",
			"Thank you for calling {name}.",
			"The person you are calling is not available.",
			"Hi, it's {name}.",
			"Hello.",
			"You have reached {digits}.",
		},
		greetings: []string{
			"I can't take your call right now.",
			"I'm not available at the moment.",
			"Please leave your name, number and a short message after the tone.",
			"Leave a message and I'll get back to you as soon as I can.",
			"I'm either on the other line or away from my desk.",
			"Our office hours are Monday to Friday, nine to five.",
			"If this is urgent, please call my mobile at {digits}.",
			"To leave a callback number, press five.",
			"When you have finished recording, you may hang up.",
			"Thanks, and have a great day.",
			"Sorry I missed you.",
			"Please speak after the beep.",
			"At the tone, please record your message.",
			"I'm away until Monday and checking messages occasionally.",
			"For sales, call {digits}; for support, try our website.",
			"Your call is important to us.",
			"Please wait for the tone, then record your message.",
			"I'll call you back.",
			"The mailbox belongs to {name}, who is out of the office today.",
			"If you need immediate help, please contact reception.",
		},
		hellos: []string{
			"Hello?", "Hello.", "Yes?", "Hi!", "Hello, yes?", "Speaking.", "Who's this?",
			"Hey.", "Yeah, hello?", "This is {name}.", "Good morning!", "Hello, {name} speaking.",
			"Hi, who's calling?",
		},
		again: []string{"Hello?", "Hello? Anyone there?", "Who is this?", "Hello, can you hear me?", "Yes?"},
		names: []string{"John", "Sarah Miller", "Dr. Patel", "Mike", "Emma Johnson", "the Lee family", "Acme Dental", "Carlos"},
	},
	"cmn": {
		name:   "Mandarin",
		voices: []string{"cmn-latn-pinyin", "cmn-latn-pinyin+f3", "cmn-latn-pinyin+m3", "cmn-latn-pinyin+f2", "cmn-latn-pinyin+f4"},
		openers: []string{
			"您好，这里是{name}的语音信箱。",
			"您好，我是{name}。",
			"您好。",
			"对不起，您拨打的用户暂时无法接听。",
			"感谢您致电{name}。",
			"喂，你好，我是{name}。",
		},
		greetings: []string{
			"我现在不方便接听电话。",
			"请在提示音后留言，我会尽快给您回电。",
			"请在嘀声后留下您的姓名和电话号码。",
			"我们的工作时间是周一至周五，上午九点到下午六点。",
			"如有急事，请拨打我的手机{digits}。",
			"留言结束后请直接挂机。",
			"感谢您的来电，祝您生活愉快。",
			"您拨打的用户正在通话中，请稍后再拨。",
			"本语音信箱由中国移动提供。",
			"请在听到提示音后开始录音。",
			"我现在正在开会，稍后给您回电。",
			"如需人工服务，请按零。",
			"抱歉，我暂时不在座位上。",
			"留言时请说明您的来电事由。",
		},
		hellos: []string{
			"喂？", "喂，你好。", "你好。", "哪位？", "喂，哪位？", "您好。", "喂，您好，哪位？",
			"我是{name}。", "嗯，你好。", "喂，说吧。",
		},
		again: []string{"喂？", "喂，说话呀。", "喂？听得到吗？", "哪位啊？", "喂，你好？"},
		names: []string{"张伟", "李娜", "王经理", "陈医生", "华盛公司", "刘老师"},
	},
	"es": {
		name:   "Spanish",
		voices: []string{"es", "es-419", "es+f3"},
		openers: []string{
			"Hola, has llamado a {name}.",
			"Buenos días, este es el buzón de voz de {name}.",
		},
		greetings: []string{
			"En este momento no puedo atenderte.",
			"Deja tu mensaje después del tono.",
			"Te devolveré la llamada lo antes posible.",
			"Gracias por llamar.",
			"Nuestro horario es de lunes a viernes.",
		},
		hellos: []string{"¿Diga?", "¿Sí?", "Hola.", "¿Bueno?"},
		again:  []string{"¿Hola?", "¿Quién es?"},
		names:  []string{"María", "Javier", "la clínica Santa Ana"},
	},
	"fr": {
		name:   "French",
		voices: []string{"fr-fr", "fr-fr+f3", "fr-be"},
		openers: []string{
			"Bonjour, vous êtes bien chez {name}.",
			"Vous êtes sur la messagerie de {name}.",
		},
		greetings: []string{
			"Je ne suis pas disponible pour le moment.",
			"Laissez-moi un message après le bip sonore.",
			"Je vous rappellerai dès que possible.",
			"Merci de votre appel.",
		},
		hellos: []string{"Allô ?", "Oui ?", "Allô, oui ?", "Bonjour."},
		again:  []string{"Allô ?", "Qui est à l'appareil ?"},
		names:  []string{"Claire", "Pierre Martin"},
	},
	"de": {
		name:   "German",
		voices: []string{"de", "de+f3"},
		openers: []string{
			"Hallo, hier ist der Anrufbeantworter von {name}.",
			"Guten Tag, Sie sind verbunden mit {name}.",
		},
		greetings: []string{
			"Ich bin leider nicht erreichbar.",
			"Bitte hinterlassen Sie eine Nachricht nach dem Signalton.",
			"Ich rufe Sie so bald wie möglich zurück.",
			"Vielen Dank für Ihren Anruf.",
		},
		hellos: []string{"Hallo?", "Ja, bitte?", "Hallo, wer ist da?"},
		again:  []string{"Hallo?", "Wer ist da?"},
		names:  []string{"Anna", "Herrn Schmidt"},
	},
}

// languageWeights: English and Mandarin above all (the corpus's goal is
// the calls Dialtone places), a few others so that the detector is not
// tuned to two languages' rhythm.
var languageWeights = []struct {
	code   string
	weight float64
}{
	{"en", 0.5}, {"cmn", 0.38}, {"es", 0.04}, {"fr", 0.04}, {"de", 0.04},
}
