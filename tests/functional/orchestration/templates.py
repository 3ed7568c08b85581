"""Templates the orchestration tests (and bench/orchestration.py) use."""

from __future__ import annotations

FULL_STACK = """\
heat_template_version: 2018-08-31
description: A network with a router to public, a security group, a server with a
  floating IP and a volume attached
parameters:
  image: {type: string, default: onestack-busybox, constraints: [{custom_constraint: glance.image}]}
  flavor: {type: string, default: m1.nano, constraints: [{custom_constraint: nova.flavor}]}
  cidr: {type: string, default: 10.70.0.0/24}
  user_data:
    type: string
    default: |
      #!/bin/sh
      echo hello from the stack
resources:
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: {get_param: cidr}
  router:
    type: OS::Neutron::Router
    properties:
      external_gateway_info: {network: public}
  router_interface:
    type: OS::Neutron::RouterInterface
    properties:
      router: {get_resource: router}
      subnet: {get_resource: subnet}
  secgroup:
    type: OS::Neutron::SecurityGroup
    properties:
      rules:
        - {protocol: icmp}
        - {protocol: tcp, port_range_min: 22, port_range_max: 22}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      security_groups: [{get_resource: secgroup}]
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{port: {get_resource: port}}]
      user_data_format: RAW
      user_data: {get_param: user_data}
  fip:
    type: OS::Neutron::FloatingIP
    properties:
      floating_network: public
      port_id: {get_resource: port}
  volume:
    type: OS::Cinder::Volume
    properties:
      size: 1
  attachment:
    type: OS::Cinder::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: volume}
outputs:
  server_id:
    description: The server
    value: {get_resource: server}
  addresses:
    description: The server's addresses
    value: {get_attr: [server, addresses]}
  networks:
    value: {get_attr: [server, networks]}
  floating_ip:
    value: {get_attr: [fip, floating_ip_address]}
  fixed_ip:
    value: {get_attr: [port, fixed_ips, 0, ip_address]}
  volume_id:
    value: {get_resource: volume}
"""

GROUP = """\
heat_template_version: 2016-10-14
parameters:
  count: {type: number, default: 3}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.71.0.0/24}
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      resource_def:
        type: OS::Nova::Server
        properties:
          name: member-%index%
          image: onestack-busybox
          flavor: m1.nano
          networks: [{network: {get_resource: net}}]
outputs:
  refs: {value: {get_attr: [group, refs]}}
  names: {value: {get_attr: [group, name]}}
  first: {value: {get_attr: [group, resource.0, name]}}
"""

CHILD = """\
heat_template_version: 2016-10-14
parameters:
  size: {type: number}
  prefix: {type: string, default: child}
resources:
  random:
    type: OS::Heat::RandomString
    properties: {length: {get_param: size}}
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1, name: {list_join: ["-", [{get_param: prefix}, vol]]}}
outputs:
  value: {value: {get_attr: [random, value]}}
  volume_id: {value: {get_resource: volume}}
"""

PARENT = """\
heat_template_version: 2016-10-14
parameters:
  size: {type: number, default: 6}
resources:
  nested:
    type: child.yaml
    properties: {size: {get_param: size}}
  mapped:
    type: My::Random
outputs:
  nested_value: {value: {get_attr: [nested, value]}}
  nested_volume: {value: {get_attr: [nested, volume_id]}}
  mapped_value: {value: {get_attr: [mapped, value]}}
"""

ENVIRONMENT = """\
resource_registry:
  My::Random: OS::Heat::RandomString
parameter_defaults:
  size: 9
"""
