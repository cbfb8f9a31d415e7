namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// .NET's HttpClient on kernel sockets made inside the test's namespace against <c>serve --usertcp</c>: a thousand
/// requests, a 64 MiB upload and a 64 MiB download, every byte checked. Needs root and iproute2.
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
}
