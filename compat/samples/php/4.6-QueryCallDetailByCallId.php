<?php
// This file is auto-generated, don't edit it. Thanks.
namespace alibabacloud/dyvmsapi-20170525:^0\1\0;
use AlibabaCloud\SDK\Dyvmapi\V20170525\Dyvmapi;

use AlibabaCloud\Tea\Rpc\Rpc\Config;
use AlibabaCloud\SDK\Dyvmapi\V20170525\Models\QueryCallDetailByCallIdRequest;
use AlibabaCloud\SDK\Dyvmapi\V20170525\Models\QueryCallDetailByCallIdResponse;

class Client {

    /**
     * 使用AK&SK初始化账号Client
     * @param string $accessKeyId
     * @param string $accessKeySecret
     * @param string $regionId
     * @return Dyvmapi
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
        $request = new QueryCallDetailByCallIdRequest([
            "callId" => "100625930001^10019107xx",
            "prodId" => 11000000300004,
            "queryDate" => 1577255564
        ]);
        $response = $client->queryCallDetailByCallId($request);
    }
}
// This file is auto-generated, don't edit it. Thanks.
