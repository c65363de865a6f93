# A Jaeger agent's UDP service (jaegertracing/jaeger-idl thrift/agent.thrift,
# without the legacy Zipkin method): every method oneway, so thrift-kgen may
# serve it over UDP (listen=udp). Clients send one emitBatch per datagram,
# compact on port 6831, binary on 6832.
include "jaeger.thrift"

service Agent {
  oneway void emitBatch(1: jaeger.Batch batch)
}
