using System.IO.Pipelines;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>Bounded waits and reads the loopback tests share (import with <c>using static</c>).</summary>
internal static class TestWaits
{
    /// <summary>The bound on every wait: far above any expected time, so a miss means a hang, not a slow machine.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> past <see cref="Bound"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + (long)Bound.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"condition not met in {Bound.TotalSeconds} s");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Completes when <paramref name="token"/> is cancelled; throws <see cref="TimeoutException"/> past <see cref="Bound"/>.</summary>
    public static Task WaitAsync(CancellationToken token)
    {
        var tcs = new TaskCompletionSource();
        token.Register(() => tcs.TrySetResult());
        return tcs.Task.WaitAsync(Bound, CancellationToken.None);
    }

    /// <summary>Everything <paramref name="reader"/> yields until the writer completes.</summary>
    public static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var all = new List<byte>();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                all.AddRange(segment.ToArray());
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return [.. all];
            }
        }
    }
}
