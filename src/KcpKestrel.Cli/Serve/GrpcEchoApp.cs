using Grpc.Core;
using KcpKestrel.Cli.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// <c>serve --app grpc</c>: a unary gRPC echo (Protos/echo.proto) over HTTP/2 without TLS on every endpoint, so a
/// gRPC call's latency is measured over KCP and TCP alike (<c>bench --workload grpc</c>).
/// </summary>
internal sealed class GrpcEchoApp : Echo.EchoBase
{
    public static void AddTo(IServiceCollection services) =>
        services.AddGrpc(o =>
        {
            // bench --size goes up to 1 MiB; the default limit (4 MiB) is per message, this keeps the two in step.
            o.MaxReceiveMessageSize = 2 << 20;
            o.MaxSendMessageSize = 2 << 20;
        });

    public static void MapTo(WebApplication app) => app.MapGrpcService<GrpcEchoApp>();

    public override Task<Payload> Unary(Payload request, ServerCallContext context) => Task.FromResult(request);
}
