module github.com/dialtone-voice/dialtone/compat/pinned/dyvmsapi-v1.2.1

go 1.26.8

require (
	github.com/alibabacloud-go/dyvmsapi-20170525 v1.2.1
	github.com/alibabacloud-go/tea v1.1.7
	github.com/alibabacloud-go/tea-rpc v1.1.3
)

require (
	github.com/alibabacloud-go/debug v0.0.0-20190504072949-9472017b5c68 // indirect
	github.com/alibabacloud-go/endpoint-util v1.1.0 // indirect
	github.com/alibabacloud-go/tea-rpc-utils v1.1.0 // indirect
	github.com/alibabacloud-go/tea-utils v1.3.0 // indirect
	github.com/aliyun/credentials-go v1.1.0 // indirect
	golang.org/x/net v0.0.0-20200506145744-7e3656a0809f // indirect
	gopkg.in/ini.v1 v1.56.0 // indirect
)
