using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Middleware.Internal;

/// <summary>Refuses peers by IP/CIDR allow and deny lists; with an options monitor the lists follow configuration reloads.</summary>
internal sealed class AddressFilterMiddleware
{
    private const string Message = "Connection refused: the peer's address is not allowed.";

    private readonly ConnectionDelegate _next;
    private readonly ConnectionInstruments _instruments;
    private readonly ConnectionTags _tags;
    private readonly ILogger _logger;
    private volatile AddressRuleSet _rules;
    private long _refused;

    public AddressFilterMiddleware(ConnectionDelegate next, AddressFilterOptions options, ConnectionInstruments instruments, ConnectionTags tags, ILogger logger)
    {
        _next = next;
        _instruments = instruments;
        _tags = tags;
        _logger = logger;
        _rules = Build(options);
    }

    public AddressFilterMiddleware(ConnectionDelegate next, IOptionsMonitor<AddressFilterOptions> monitor, string name, ConnectionInstruments instruments, ConnectionTags tags, ILogger logger)
        : this(next, monitor.Get(name), instruments, tags, logger)
    {
        // The registration lives as long as the listener's pipeline (the host): never disposed on purpose.
        monitor.OnChange((options, changed) =>
        {
            if (string.Equals(changed ?? Options.DefaultName, name, StringComparison.Ordinal))
            {
                _rules = Build(options);
                ConnectionLog.AddressRulesReloaded(_logger, name, options.Allow.Count, options.Deny.Count);
            }
        });
    }

    public long Refused => Interlocked.Read(ref _refused);

    public Task OnConnectionAsync(ConnectionContext context)
    {
        var address = ConnectionTags.RemoteAddress(context);
        if (address is not null && !_rules.IsAllowed(address))
        {
            Interlocked.Increment(ref _refused);
            _instruments.Refuse(context, _tags, CloseReasons.AddressDenied, Message);
            return Task.CompletedTask;
        }

        return _next(context);
    }

    private AddressRuleSet Build(AddressFilterOptions options)
    {
        var rules = AddressRuleSet.Parse(options);
        foreach (var entry in rules.Invalid)
        {
            ConnectionLog.InvalidAddressRule(_logger, entry);
        }

        return rules;
    }
}
