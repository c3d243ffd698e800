#!/usr/bin/env python3
"""An independent CRI client for the tests: the PyPI package container-runtime-interface-api
(cri_api, generated from the real CRI protos) over grpcio. Makes one call and prints the
response as JSON, or {"error": {"code": "UNIMPLEMENTED", "details": "..."}} and exits 3.

usage: cri_client.py SOCKET SERVICE.METHOD [REQUEST-JSON]
  e.g. cri_client.py /run/berth/berth.sock RuntimeService.Version
       cri_client.py /run/berth/berth.sock ImageService.PullImage '{"image": {"image": "..."}}'
"""
import json
import sys

import grpc
from cri_api.v1 import api_pb2, api_pb2_grpc
from google.protobuf import json_format

socket_path, call = sys.argv[1], sys.argv[2]
request_json = sys.argv[3] if len(sys.argv) > 3 else "{}"
service_name, method = call.split(".")
channel = grpc.insecure_channel("unix://" + socket_path)
stub = getattr(api_pb2_grpc, service_name + "Stub")(channel)
method_descriptor = api_pb2.DESCRIPTOR.services_by_name[service_name].methods_by_name[method]
request_class = getattr(api_pb2, method_descriptor.input_type.name)
request = json_format.Parse(request_json, request_class())
try:
    response = getattr(stub, method)(request, timeout=60)
except grpc.RpcError as error:
    print(json.dumps({"error": {"code": error.code().name, "details": error.details()}}))
    sys.exit(3)
print(json_format.MessageToJson(response, preserving_proto_field_name=False, indent=None))
