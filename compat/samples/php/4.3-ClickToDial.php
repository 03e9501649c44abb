<?php
// This file is auto-generated, don't edit it. Thanks.
namespace alibabacloud/dyvmsapi-20170525: ^0\1\0;

use AlibabaCloud\SDK\Dyvmsapi\V20170525\Dyvmsapi;

use AlibabaCloud\Tea\Rpc\Rpc\Config;
use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\ClickToDialRequest;
use AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\ClickToDialResponse;

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
        $request = new ClickToDialRequest([
            "callerShowNumber" => "123xxxx",
            "callerNumber" => "1575xxxx",
            "calledShowNumber" => "12xxxx",
            "calledNumber" => "1885xxxx"
        ]);
        $response = $client->clickToDial($request);
    }
}
