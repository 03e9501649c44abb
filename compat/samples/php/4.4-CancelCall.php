<?php

// This file is auto-generated, don't edit it. Thanks.
namespace DarabonbaSDK;

use AlibabaCloud\SDK\Dyvmapi\V20170525\Dyvmapi;

use AlibabaCloud\Tea\Rpc\Rpc\Config;
use AlibabaCloud\SDK\Dyvmapi\V20170525\Models\CancelCallRequest;
use AlibabaCloud\SDK\Dyvmapi\V20170525\Models\CancelCallResponse;

class Client {

/**
 * 使用AK&SK初始化账号Client
 * @param string $accessKeyId
 * @param string $accessKeySecret
 * @param string $regionId
 * @return Dyvmapi Client
 */
public static function createClient($accessKeyId, $accessKeySecret, $regionId){
$config = new Config([]);
// 您的AccessKey ID
$config->accessKeyId = $accessKeyId;
// 您的AccessKey Secret
$config->accessKeySecret = $accessKeySecret;
// 您的可用区ID
$config->regionId = $regionId;
return new Dyvmapi($config);
}
return new DydnsApi($config);
}

/**
 * @param array $args
 * @return void
 */
public static function main($args){
    $client = self::createClient("accessKeyId", "accessKeySecret", "regionId");
    $request = new CancelCallRequest([
        // 通话的唯一回执ID。
        "callId" => "117059405036^10385912xx"
    ]);
    // 发起请求
    $response = $client->cancelCall($request);
}
}
// This file is auto-generated, don't edit it. Thanks.
