using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KcpKestrel.Cli.Grpc;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// <c>bench --workload grpc</c>: unary calls of serve --app grpc's echo (Protos/echo.proto) through a
/// <see cref="GrpcChannel"/> at a fixed concurrency, over KCP (one session carrying one HTTP/2 connection) or TCP;
/// every reply is checked against its request.
/// </summary>
internal static class GrpcWorkload
{
    /// <summary>
    /// Sends one call alone (its latency, dial included, is the time to the first response), then the other
    /// <paramref name="count"/> - 1 from <paramref name="concurrency"/> callers, all as streams of one HTTP/2
    /// connection (as a gRPC channel does), each with a <paramref name="size"/>-byte payload.
    /// </summary>
    public static async Task<BenchResult> RunAsync(BenchDialer dialer, int count, int concurrency, int size, BenchProgress progress, CancellationToken cancellationToken)
    {
        var dials = new RttRecorder(1);
        using var channel = GrpcChannel.ForAddress("http://kcpkestrel", new GrpcChannelOptions
        {
            // The host name is only the :authority: the handler dials the dialer's target.
            HttpHandler = dialer.CreateHttpHandler(1, dials),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 2 << 20,
            MaxSendMessageSize = 2 << 20,
            ThrowOperationCanceledOnCancellation = true,
        });
        var client = new Echo.EchoClient(channel);
        var result = await RequestLoop.RunAsync("grpc", count, concurrency, OneAsync, IsFailure, progress, cancellationToken).ConfigureAwait(false);
        var (dialP50, dialP99) = dials.Percentiles();
        return result with { Dials = dials.Count, DialP50Us = dialP50, DialP99Us = dialP99 };

        async Task<int> OneAsync(int index, CancellationToken cancellationToken)
        {
            var payload = Payload(index, size);
            var reply = await client.UnaryAsync(new Payload { Data = UnsafeByteOperations.UnsafeWrap(payload) }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!reply.Data.Span.SequenceEqual(payload))
            {
                throw new InvalidDataException($"call {index}: the reply ({reply.Data.Length} bytes) is not the request ({payload.Length} bytes)");
            }

            return reply.Data.Length;
        }
    }

    /// <summary>The request of call <paramref name="index"/>: its number, then bytes that differ from call to call.</summary>
    private static byte[] Payload(int index, int size)
    {
        var payload = new byte[size];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(index + i);
        }

        BinaryPrimitives.WriteInt32LittleEndian(payload, index);
        return payload;
    }

    private static bool IsFailure(Exception e) =>
        e is RpcException or InvalidDataException or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException;
}
