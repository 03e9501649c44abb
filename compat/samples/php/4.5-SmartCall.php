<?php
// This file is auto-generated, don't edit it. Thanks.
namespace alibabacloud/dyvmsapi-20170525:^0\1\0;

use AlibabaCloud\SDK\Dyvmsapi\V20170525\Dyvmsapi;

use AlibabaCloud\Tea\Rpc\Rpc\Config;
use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\SmartCallRequest;
use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\SmartCallResponse;

class Client {

    /**
     * 使用AK&SK初始化账号Client
     * @param string $accessKeyId
     * @param string $accessKeySecret
     * @param string $regionId
     * @return Dyvmsapi
     */
    public static function createClient($accessKeyId, $accessKeySecret, $regionId){
        $config = new Config([]);
        $config->accessKeyId = $accessKeyId;
        $config->accessKeySecret = $accessKeySecret;
        $config->regionId = $regionId;
    }

    /**
     * @param array $args
     * @return void
     */
    public static function main($args){
        $client = self::createClient("accessKeyId", "accessKeySecret", "regionId");
        $request = new SmartCallRequest([
            "calledShowNumber" => "0633676xx",
            "calledNumber" => "10xx",
            "voiceCode" => "3355eedd-3706-4f75-bff9-e645e88e1730.wav",
            "pauseTime" => 800,
            "muteTime" => 10000,
            "actionCodeBreak" => false
        ]);
        $response = $client->smartCall($request);
    }
}
