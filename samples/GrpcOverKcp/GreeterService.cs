using Grpc.Core;

namespace GrpcOverKcp;

/// <summary>An ordinary Grpc.AspNetCore service: it does not know it is served over KCP.</summary>
internal sealed class GreeterService : Greeter.GreeterBase
{
    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        => Task.FromResult(new HelloReply { Message = $"Hello, {request.Name} (over {context.GetHttpContext().Request.Protocol})" });

    public override async Task SayHelloMany(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new HelloReply { Message = $"Hello #{i}, {request.Name}" }, context.CancellationToken);
        }
    }

    public override async Task<HelloReply> GreetEveryone(IAsyncStreamReader<HelloRequest> requestStream, ServerCallContext context)
    {
        var names = 0;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            names++;
        }

        return new HelloReply { Message = $"Hello, all {names} of you" };
    }

    public override async Task Chat(IAsyncStreamReader<HelloRequest> requestStream, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(new HelloReply { Message = $"Hi {request.Name}" }, context.CancellationToken);
        }
    }
}
