<?php

// This file is auto-generated, don't edit it. Thanks.
namespace Alibabacloud\Dyvmsapi20170525;

use AlibabaCloud\SDK\Dyvmsapi\V20170525\Dyvmsapi;
use AlibabaCloud\Tea\Console\Console;

use AlibabaCloud\Tea\Rpc\Rpc\Config;
use AlibabaCloud\SDK\DyvmSapi\V20170525\Models\SingleCallByVoiceRequest;
use AlibabaCloud\SDK\DyvmSapi\V20170525\Models\SingleCallByVoiceResponse;

class Client {

    /**
     * 使用AK&SK初始化账号Client
     * @param string $accessKeyId
     * @param string $accessKeySecret
     * @param string $regionId
     * @return DyvmSapi Client
     */
    public static function createClient($accessKeyId, $accessKeySecret, $regionId){
        $config = new Config([]);
        // 您的AccessKey ID
        $config->accessKeyId = $accessKeyId;
        // 您的AccessKey Secret
        $config->accessKeySecret = $accessKeySecret;
        // 您的可用区ID
        $config->regionId = $regionId;
        return new DyvmSapi($config);
    }

    /**
     * @param array $args
     * @return void
     */
    public static function main($args){
        $client = self::createClient("accessKeyId", "accessKeySecret", "regionId");
        $request = new SingleCallByVoiceRequest([
            // 被叫显号，若您使用的模板为公共号池号码外呼模板，则该字段值必须为空；
            // 若您使用的模板为专属号码外呼模板，则必须传入已购买的号码，仅支持一个号码，您可以在语音服务
            // 控制台上查看已购买的号码。
            "calledShowNumber" => "18850xxxx",
            // 被叫号码。仅支持中国内地号码。一次请求仅支持一个被叫号。
            "calledNumber" => "15750xxxx",
            // 语音文件的语音ID。
            "voiceCode" => "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav"
        ]);
        $response = $client->singleCallByVoice($request);
        Console::log($response->message);
    }
}
}
}
