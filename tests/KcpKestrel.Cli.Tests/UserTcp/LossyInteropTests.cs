namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// The same checked transfers with the stack's packet source losing 2% of packets each way (seeded, so a failure
/// replays): every byte still arrives, and the stack had to retransmit and recover from SACKed holes to get there.
/// </summary>
public sealed class LossyInteropTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long Size = 16L << 20;

    [Theory]
    [InlineData(7)]
    [InlineData(23)]
    public async Task TwoPercentLoss_UploadAndDownloadByteExact_WithRetransmitsAndSackRecoveries(int seed)
    {
        if (UserTcpInterop.Unavailable() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }

        await using var ns = await NetNamespace.CreateAsync();
        await using var serve = await UserTcpServe.StartAsync(ns, "http", $"loss=0.02,seed={seed}");
        using (var client = KernelClient.Http(ns))
        {
            await Transfers.RequestsAsync(client, 200);
            await Transfers.UploadAsync(client, Size);
            await Transfers.DownloadAsync(client, Size);
        }

        var report = await serve.StopAsync();
        output.WriteLine(report.ToString());
        Assert.True(UserTcpServe.Counter(report, "retransmits") > 0, $"retransmits in {report}");
        Assert.True(UserTcpServe.Counter(report, "sackRecoveries") > 0, $"SACK recoveries in {report}");
    }
}
