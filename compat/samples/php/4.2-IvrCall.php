<?php

// This file is auto-generated, don't edit it. Thanks.
namespace DarabonhaSDK:
namespace AlibabaCloud {

    use AlibabaCloud\SDK\Dyvmsapi\V20170525\Dyvmsapi;

    use AlibabaCloud\Tea\Rpc\Rpc\Config;
    use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\IvrCallRequest;
    use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\IvrCallResponse;

    class Client {

        /**
        * 使用AK&SK初始化账号Client
        * @param string $accessKeyId
        * @param string $accessKeySecret
        * @param string $regionId
        * @return Dyvmsapi Client
        */
        public static function createClient($accessKeyId, $accessKeySecret, $regionId){
            $config = new Config([]);
            // 您的AccessKey ID
            $config->accessKeyId = $accessKeyId;
            // 您的AccessKey Secret
            $config->accessKeySecret = $accessKeySecret;
            // 您的可用区ID
            $config->regionId = $regionId;
            return new Dyvmsapi($config);
        }

        /**
        * @param array $args
        * @return void
        */
        public static function main($args){
            $client = self::createClient("accessKeyId", "accessKeySecret", "regionId");
            $request = new IvrCallRequest([
                // 被叫号码。仅支持中国大陆号码。单次请求仅支持一个号码。
                "calledNumber" => "05715621xx",
                // 被叫号码。仅支持中国大陆号码。单次请求仅支持一个号码。
                "calledNumber" => "1500000xx",
                // 呼叫开始时播放的提示音。
                // 语音文件：语音ID。可以在文本转语音模板页面查看语音ID。
            ]);
        }
    }
}
// 文本转语音模板：模板ID。可以在文本转语音模板页面查看模板ID。
"startCode" => "TTS_713900000",
// 文本转语音模板内的变量参数，格式为JSON。
// 当StartCode为文本转语音模板（TTS）、且模板中带变量的情况下此参数为必选。
"startTtsParams" => "{product:'aliyun',code:'123'}"
]);
$response = $client->ivrCall($request);
}
}
