using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KcpKestrel.Http.Tests.Grpc;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>Echoes chunks back for unary and bidi calls, generates seeded chunks, and hashes client streams.</summary>
public sealed class EchoGrpcService : Echo.EchoBase
{
    public override Task<Chunk> Unary(Chunk request, ServerCallContext context) => Task.FromResult(request);

    public override async Task ServerStream(StreamRequest request, IServerStreamWriter<Chunk> responseStream, ServerCallContext context)
    {
        var random = new Random(request.Seed);
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(Payloads.Chunk(random, i, request.Size), context.CancellationToken);
        }
    }

    public override async Task<Summary> ClientStream(IAsyncStreamReader<Chunk> requestStream, ServerCallContext context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var count = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            hash.AppendData(requestStream.Current.Payload.Span);
            count++;
        }

        return new Summary { Count = count, Sha256 = ByteString.CopyFrom(hash.GetHashAndReset()) };
    }

    public override async Task Bidi(IAsyncStreamReader<Chunk> requestStream, IServerStreamWriter<Chunk> responseStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(requestStream.Current, context.CancellationToken);
        }
    }
}
