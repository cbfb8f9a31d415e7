using System.Net.Http;

namespace KcpKestrel.Cli.Bench;

/// <summary>
/// <c>bench --workload http</c>: HTTP/1.1 GETs of serve's <c>/plaintext</c> through <see cref="HttpClient"/> at a fixed
/// concurrency, over KCP (a session per HTTP connection, or smux streams on pooled sessions) or TCP.
/// </summary>
internal static class HttpWorkload
{
    /// <summary>What serve's http app answers with a fixed body.</summary>
    public const string Path = "/plaintext";

    /// <summary>
    /// Sends one request alone (its latency, dial included, is the time to the first response), then the other
    /// <paramref name="count"/> - 1 from <paramref name="concurrency"/> callers sharing at most as many connections.
    /// With <paramref name="connectionClose"/> every request asks for <c>Connection: close</c>, so each one opens a
    /// connection of its own: what a dial costs (a KCP session, or only a smux stream) shows in every request.
    /// </summary>
    public static async Task<BenchResult> RunAsync(BenchDialer dialer, int count, int concurrency, bool connectionClose, BenchProgress progress, CancellationToken cancellationToken)
    {
        var dials = new RttRecorder(connectionClose ? count : concurrency);
        using var client = new HttpClient(dialer.CreateHttpHandler(concurrency, dials))
        {
            // The host name is not looked up: every connection goes to the dialer's target.
            BaseAddress = new Uri("http://kcpkestrel/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var result = await RequestLoop.RunAsync("http", count, concurrency, OneAsync, IsFailure, progress, cancellationToken).ConfigureAwait(false);
        var (dialP50, dialP99) = dials.Percentiles();
        return result with { Dials = dials.Count, DialP50Us = dialP50, DialP99Us = dialP99 };

        async Task<int> OneAsync(int index, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Path);
            request.Headers.ConnectionClose = connectionClose;
            using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            return body.Length;
        }
    }

    private static bool IsFailure(Exception e) =>
        e is HttpRequestException or IOException or TimeoutException or Polly.Timeout.TimeoutRejectedException;
}
