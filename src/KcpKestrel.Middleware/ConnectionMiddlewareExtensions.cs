using KcpKestrel.Middleware;
using KcpKestrel.Middleware.Internal;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>
/// Connection middleware for any Kestrel listener (KCP, tuned TCP, sockets), on <c>ListenOptions</c> or any
/// <see cref="IConnectionBuilder"/>: <c>listen.UseAddressFilter().UseConnectionRateLimiter(o => ...).UseHttps()</c>.
/// Each piece works alone and in any order; placed before <c>UseHttps</c> it sees the wire bytes, after it the plaintext.
/// Refused connections are closed at once and counted on the "KcpKestrel.Connections" meter
/// (<c>kcpkestrel.connections.refused</c>, tagged transport, endpoint and reason).
/// </summary>
public static class ConnectionMiddlewareExtensions
{
    /// <summary>
    /// Limits new connections per address prefix, concurrent connections per peer (an IPv4 address, or an IPv6
    /// prefix of <see cref="ConnectionRateLimiterOptions.IPv6PrefixLength"/> bits) and bandwidth per connection.
    /// </summary>
    public static TBuilder UseConnectionRateLimiter<TBuilder>(this TBuilder builder, Action<ConnectionRateLimiterOptions> configure)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ConnectionRateLimiterOptions();
        configure(options);
        options.Validate();
        var services = builder.ApplicationServices;
        builder.Use(next =>
        {
            var middleware = new ConnectionRateLimiterMiddleware(next, options, ConnectionInstruments.Get(services), new ConnectionTags(builder), Clock(options.TimeProvider, services));
            services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(static m => ((ConnectionRateLimiterMiddleware)m!).Dispose(), middleware);
            return middleware.OnConnectionAsync;
        });
        return builder;
    }

    /// <summary>
    /// Refuses peers by the allow and deny lists of the named <see cref="AddressFilterOptions"/>
    /// (<c>services.AddAddressFilter(configuration.GetSection("AddressFilter"))</c>); configuration reloads apply
    /// to the next connection, without a restart. Fails closed: a bad entry stops start-up with an
    /// <see cref="OptionsValidationException"/> naming it, and a reload with a bad entry is logged as an error
    /// while the previous rules stay in force.
    /// </summary>
    public static TBuilder UseAddressFilter<TBuilder>(this TBuilder builder)
        where TBuilder : IConnectionBuilder => UseAddressFilter(builder, Options.DefaultName);

    /// <summary>As <see cref="UseAddressFilter{TBuilder}(TBuilder)"/>, with the named options <paramref name="optionsName"/>.</summary>
    public static TBuilder UseAddressFilter<TBuilder>(this TBuilder builder, string optionsName)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(optionsName);
        var services = builder.ApplicationServices;
        var factory = services.GetRequiredService<IOptionsFactory<AddressFilterOptions>>();
        var sources = services.GetServices<IOptionsChangeTokenSource<AddressFilterOptions>>().ToArray();
        var logger = Loggers(services).CreateLogger("KcpKestrel.Middleware.AddressFilter");
        builder.Use(next =>
        {
            var middleware = new AddressFilterMiddleware(next, factory, sources, optionsName, ConnectionInstruments.Get(services), new ConnectionTags(builder), logger);
            services.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(static m => ((AddressFilterMiddleware)m!).Dispose(), middleware);
            return middleware.OnConnectionAsync;
        });
        return builder;
    }

    /// <summary>
    /// Refuses peers by fixed allow and deny lists; throws <see cref="OptionsValidationException"/> here, naming
    /// every entry that is not an IP address or CIDR prefix in an accepted form.
    /// </summary>
    public static TBuilder UseAddressFilter<TBuilder>(this TBuilder builder, Action<AddressFilterOptions> configure)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AddressFilterOptions();
        configure(options);
        if (!AddressRuleSet.TryParse(options, AddressRuleSet.CodeKey, out var rules, out var errors))
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(AddressFilterOptions), errors);
        }

        var services = builder.ApplicationServices;
        var logger = Loggers(services).CreateLogger("KcpKestrel.Middleware.AddressFilter");
        builder.Use(next => new AddressFilterMiddleware(next, rules, ConnectionInstruments.Get(services), new ConnectionTags(builder), logger).OnConnectionAsync);
        return builder;
    }

    /// <summary>Records duration, bytes each way and close reason of every connection (and KCP session figures) on the "KcpKestrel.Connections" meter.</summary>
    public static TBuilder UseConnectionMetrics<TBuilder>(this TBuilder builder, Action<ConnectionMetricsOptions>? configure = null)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ConnectionMetricsOptions();
        configure?.Invoke(options);
        var services = builder.ApplicationServices;
        builder.Use(next => new ConnectionMetricsMiddleware(next, options, ConnectionInstruments.Get(services), new ConnectionTags(builder), Clock(options.TimeProvider, services)).OnConnectionAsync);
        return builder;
    }

    /// <summary>
    /// Logs an open and a close line per connection, and at Trace a bounded hex dump when <see cref="ConnectionLoggingOptions.HexDumpBytes"/> is set.
    /// Named apart from Kestrel's own <c>ListenOptions.UseConnectionLogging()</c> (which wins overload resolution for that
    /// name and logs every read and write through a stream adapter, at a cost on every request).
    /// </summary>
    public static TBuilder UseConnectionLifetimeLogging<TBuilder>(this TBuilder builder, Action<ConnectionLoggingOptions>? configure = null)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ConnectionLoggingOptions();
        configure?.Invoke(options);
        options.Validate();
        var services = builder.ApplicationServices;
        var logger = Loggers(services).CreateLogger(options.Category);
        builder.Use(next => new ConnectionLoggingMiddleware(next, options, logger, new ConnectionTags(builder), Clock(options.TimeProvider, services)).OnConnectionAsync);
        return builder;
    }

    /// <summary>Closes connections idle past <see cref="ConnectionTimeoutOptions.IdleTimeout"/> or open past <see cref="ConnectionTimeoutOptions.MaxLifetime"/>.</summary>
    public static TBuilder UseConnectionTimeouts<TBuilder>(this TBuilder builder, Action<ConnectionTimeoutOptions> configure)
        where TBuilder : IConnectionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ConnectionTimeoutOptions();
        configure(options);
        options.Validate();
        var services = builder.ApplicationServices;
        builder.Use(next => new ConnectionTimeoutMiddleware(next, options, Clock(options.TimeProvider, services)).OnConnectionAsync);
        return builder;
    }

    private static TimeProvider Clock(TimeProvider? configured, IServiceProvider services) =>
        configured ?? services.GetService<TimeProvider>() ?? TimeProvider.System;

    private static ILoggerFactory Loggers(IServiceProvider services) =>
        services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
}
