using System.Net;
using Google.Protobuf;
using Grpc.Net.Client;
using KcpKestrel.Cli.Grpc;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// .NET's HttpClient on kernel sockets made inside the test's namespace against <c>serve --usertcp</c>: a thousand
/// requests, a 64 MiB upload and a 64 MiB download, every byte checked; and HTTP/2 with prior knowledge (h2c) and gRPC
/// on serve's grpc app. Needs root and iproute2.
/// </summary>
public sealed class HttpClientInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long Size = 64L << 20;

    [Fact]
    public async Task AThousandRequestsThenUploadAndDownload64MiB_ByteExact()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http");
        using (var client = KernelClient.Http(ns))
        {
            await Transfers.RequestsAsync(client, 1000);
            await Transfers.UploadAsync(client, Size);
            await Transfers.DownloadAsync(client, Size);
        }

        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.True(UserTcpServe.Counter(report, "bytesIn") >= Size, "the upload crossed the stack");
        Assert.True(UserTcpServe.Counter(report, "bytesOut") >= Size, "the download crossed the stack");
    }

    [Fact]
    public async Task Http2PriorKnowledgeAndGrpc_AThousandRequestsOnOneConnection()
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "grpc");
        using (var client = KernelClient.Http(ns, HttpVersion.Version20))
        {
            for (var i = 0; i < 1000; i++)
            {
                using var response = await client.GetAsync("/nothing-here");
                Assert.Equal(HttpVersion.Version20, response.Version);
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            using var channel = GrpcChannel.ForAddress(client.BaseAddress!, new GrpcChannelOptions { HttpClient = client, DisposeHttpClient = false });
            var echo = new Echo.EchoClient(channel);
            var payload = new byte[100_000];
            KcpKestrel.Cli.Serve.TransferEndpoints.Fill(payload, 5);
            for (var i = 0; i < 100; i++)
            {
                var reply = await echo.UnaryAsync(new Payload { Data = ByteString.CopyFrom(payload) });
                Assert.True(reply.Data.Span.SequenceEqual(payload), "the gRPC echo differs");
            }
        }

        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.Equal(1, UserTcpServe.Counter(report, "passiveOpens"));
    }
}
