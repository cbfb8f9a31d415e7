using System.Diagnostics;

namespace KcpKestrel.Interop.Tests.Snappy;

/// <summary>
/// golang/snappy as kcptun uses it: tests/GoVectors/snappy built once per test process against
/// Debian's golang-github-golang-snappy-dev, run with binary stdin and stdout.
/// </summary>
internal static class GoSnappy
{
    private static readonly Lazy<string> s_binary = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Go's framing of <paramref name="input"/> written as <paramref name="writes"/> (then the rest), each write flushed.</summary>
    public static Task<byte[]> EncodeAsync(byte[] input, IEnumerable<int> writes)
    {
        return RunAsync(["encode", .. writes.Select(w => w.ToString(System.Globalization.CultureInfo.InvariantCulture))], input);
    }

    /// <summary>What Go's snappy.Reader makes of <paramref name="framed"/>; throws with Go's error when it refuses.</summary>
    public static Task<byte[]> DecodeAsync(byte[] framed)
    {
        return RunAsync(["decode"], framed);
    }

    private static async Task<byte[]> RunAsync(IEnumerable<string> args, byte[] stdin)
    {
        using var process = Process.Start(TestProcess.StartInfo(s_binary.Value, args))!;
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TestWaits.Bound);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go snappy {string.Join(' ', args)} did not finish in {TestWaits.Bound}");
        }

        await copyOut;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"go snappy {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}");
        }

        return stdout.ToArray();
    }

    private static string Build()
    {
        Directory.CreateDirectory(GoToolchain.CacheDirectory);
        var output = Path.Combine(GoToolchain.CacheDirectory, $"gosnappy-{Environment.ProcessId}");
        GoToolchain.Run(RepositoryRoot.Combine("tests", "GoVectors", "snappy"), "build", "-o", output, ".");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(output);
        return output;
    }
}
